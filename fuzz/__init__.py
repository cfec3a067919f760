"""Coverage-guided fuzzing of the parser and the whole ingest with atheris (RELIABILITY T01)."""
