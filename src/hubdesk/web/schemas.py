"""Moved to `hubdesk.api.schemas` (below the domains); this name stays for code not yet moved."""

from hubdesk.api.schemas import *  # noqa: F403
