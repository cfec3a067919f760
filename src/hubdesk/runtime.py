"""What an entry point builds once and passes down: settings, database, blob store, key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hubdesk.config import Settings, resolve_secret_key
from hubdesk.db.types import utcnow
from hubdesk.db.uow import Database
from hubdesk.storage.blobs import BlobStore


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    secret_key: str

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database.connect(settings.sqlalchemy_url),
            blobs=BlobStore(settings.data_dir / "blobs"),
            secret_key=resolve_secret_key(settings),
        )

    def today(self) -> date:
        return utcnow().astimezone(self.settings.tz).date()

    def close(self) -> None:
        self.db.dispose()
