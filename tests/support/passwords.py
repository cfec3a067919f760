"""Password hashing in tests: real argon2id, at the lowest cost argon2 allows.

The product hashes with argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes), which is
deliberately slow: 0.1-0.8 s per hash or check on this 2-core machine, and the UI tests
create and log in hundreds of users. `tests/conftest.py` swaps in `TEST_HASHER` for the
test process (spawned processes and CLI subprocesses keep the production hasher). Every
test still hashes and verifies through `hubdesk.users.secrets`; only the cost parameters
differ, and `tests/unit/test_password_hashing.py` checks the production ones with
`PRODUCTION_HASHER`.
"""

from __future__ import annotations

from argon2 import PasswordHasher

from hubdesk.users import secrets as user_secrets

PRODUCTION_HASHER: PasswordHasher = user_secrets._hasher
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
