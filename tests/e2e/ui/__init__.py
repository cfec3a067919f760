"""Browser tests of the agent web UI (Playwright driving Debian's Chromium)."""
