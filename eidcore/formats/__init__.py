"""eidcore.formats."""
