"""nfkg."""
