"""eidcore.trust."""
