"""prepaid."""
