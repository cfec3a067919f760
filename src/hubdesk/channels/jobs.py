"""Periodic jobs: a function of the runtime, run every N seconds in a thread of its own.

A job that fails is logged and run again at its next turn; a database outage is a warning,
not a crash. One thread per job keeps a slow job (a long pending backlog) from delaying a
frequent one (the outbox sender).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from hubdesk.errors import DatabaseUnavailable, StorageUnavailable
from hubdesk.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    every: float
    """Seconds from the end of one run to the start of the next."""
    run: Callable[[Runtime], object]


class JobThread(threading.Thread):
    def __init__(self, runtime: Runtime, job: Job, stop: threading.Event) -> None:
        super().__init__(name=f"job-{job.name}", daemon=True)
        self.runtime, self.job, self.stop = runtime, job, stop

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.job.run(self.runtime)
            except (DatabaseUnavailable, StorageUnavailable) as exc:
                log.warning("job %s: %s", self.job.name, exc)
            except Exception:
                log.exception("job %s failed", self.job.name)
            self.stop.wait(self.job.every)
