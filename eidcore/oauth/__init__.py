"""eidcore.oauth."""
