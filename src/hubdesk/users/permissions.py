"""The permission codes and the `Principal` live in `hubdesk.auth` (below audit and the
domains); this module re-exports them for the code that names them here."""

from hubdesk.auth import *  # noqa: F403
