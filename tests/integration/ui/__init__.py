"""HTTP-level tests of the agent web UI (no browser)."""
