"""Database plumbing: the declarative base, column types, engine, unit of work, migrations."""
