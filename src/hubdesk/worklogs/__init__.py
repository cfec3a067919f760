"""worklogs."""
