"""What an entry point builds once and passes down: settings, database, blob store, key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hubdesk import collector
from hubdesk.config import Settings, resolve_secret_key
from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.errors import ConfigError
from hubdesk.storage.blobs import Blobs
from hubdesk.storage.private import ensure_private_dir
from hubdesk.storage.select import blob_store


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: Blobs
    secret_key: str
    loaded_models: dict[int, Any] = field(default_factory=dict)
    """Trained classifier models by row id, loaded once per process (they never change)."""
    per_process: dict[str, Any] = field(default_factory=dict)
    """Objects one process shares between its threads, by name (the live receivers' group
    committer, `hubdesk.inbound.group_commit.for_runtime`)."""

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Connect to the database and create the data directory (0700) if it is missing;
        the process's garbage collector is paced for the pipeline (`hubdesk.collector`)."""
        collector.pace()
        try:
            ensure_private_dir(settings.data_dir)
        except OSError as exc:
            raise ConfigError(
                f"Setting HUBDESK_DATA_DIR names {settings.data_dir}, which cannot be created "
                f"({exc.strerror or exc}); point it at a directory hubdesk may write."
            ) from exc
        return cls(
            settings=settings,
            db=Database.connect(settings.sqlalchemy_url),
            blobs=blob_store(settings),
            secret_key=resolve_secret_key(settings),
        )

    def today(self) -> date:
        return utcnow().astimezone(self.settings.tz).date()

    def close(self) -> None:
        """Release the database's pooled connections and the blob store's (an object
        store's HTTP connections); the runtime is not used after."""
        self.blobs.close()
        self.db.dispose()
