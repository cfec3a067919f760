"""Moved to `hubdesk.api.limits` (below the domains); this name stays for code not yet moved."""

from hubdesk.api.limits import *  # noqa: F403
