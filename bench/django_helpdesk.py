"""django-helpdesk 2.6.1 on the same corpus, for the ingest benchmark's comparison.

django-helpdesk is never a hubdesk dependency: this module makes a throw-away virtualenv of
its own (under the system temp dir, `HUBDESK_BENCH_DH_VENV` to choose another place),
installs `django-helpdesk==2.6.1` there with pip (plus psycopg for PostgreSQL), writes a
minimal Django project next to it, and runs the real `get_email` code path
(`helpdesk.email.process_email`, what `manage.py get_email` calls) over a queue whose mail
box is a local folder holding the corpus as files. Only that call is timed; Django's start-up
and `migrate` are not. The child prints one JSON line: seconds, messages, tickets, follow-ups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VERSION = "2.6.1"
VENV = Path(
    os.environ.get(
        "HUBDESK_BENCH_DH_VENV", Path(tempfile.gettempdir()) / "hubdesk-bench-django-helpdesk"
    )
)

SETTINGS = """
import os
SECRET_KEY = "bench-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
    "django.contrib.sites", "django.contrib.humanize", "rest_framework", "helpdesk",
]
MIDDLEWARE = []
ROOT_URLCONF = "benchurls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [],
              "APP_DIRS": True, "OPTIONS": {"context_processors": [
                  "django.template.context_processors.request",
                  "django.contrib.auth.context_processors.auth",
                  "django.contrib.messages.context_processors.messages"]}}]
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ["DH_MEDIA"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "support@support.example.com"
HELPDESK_TEAMS_MODE_ENABLED = False
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": True, "handlers": {}, "loggers": {}}
if os.environ["DH_DB"].startswith("postgresql://"):
    from urllib.parse import urlparse
    u = urlparse(os.environ["DH_DB"])
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": u.path[1:],
                             "USER": u.username or "", "HOST": u.hostname or "",
                             "PORT": str(u.port or 5432)}}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DH_DB"],
                             "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;"}}}
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""

DRIVER = """
import json, os, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from helpdesk.models import FollowUp, Queue, Ticket
from helpdesk.email import process_email
Queue.objects.create(
    title="Support", slug="support", email_address="support@support.example.com",
    allow_email_submission=True, email_box_type="local",
    email_box_local_dir=os.environ["DH_MAILDIR"], email_box_interval=0,
    logging_type="none",
)
count = len(os.listdir(os.environ["DH_MAILDIR"]))
start = time.perf_counter()
process_email(quiet=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "messages": count, "tickets": Ticket.objects.count(),
                  "followups": FollowUp.objects.count(),
                  "left": len(os.listdir(os.environ["DH_MAILDIR"]))}))
"""


def ensure_venv(*, postgres: bool) -> Path:
    """The virtualenv's python, with django-helpdesk installed (made once, then reused)."""
    python = VENV / "bin" / "python"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, env=clean)
    wanted = [f"django-helpdesk=={VERSION}"] + (["psycopg[binary]"] if postgres else [])
    probe = "import helpdesk" + (", psycopg" if postgres else "")
    probed = subprocess.run([python, "-c", probe], capture_output=True, check=False, env=clean)
    if probed.returncode:
        subprocess.run([python, "-m", "pip", "install", "--quiet", *wanted], check=True, env=clean)
    return python


def run(raws: Sequence[bytes], workdir: Path, database: str) -> dict[str, Any]:
    """Feed `raws` to django-helpdesk's local-folder `get_email`; `database` is a SQLite
    file path or a `postgresql://user@host:port/name` URL of an empty database."""
    python = ensure_venv(postgres=database.startswith("postgresql://"))
    project = workdir / "project"
    maildir = workdir / "mail"
    for folder in (project, maildir, workdir / "media"):
        folder.mkdir(parents=True, exist_ok=True)
    (project / "benchsettings.py").write_text(SETTINGS)
    (project / "benchurls.py").write_text(URLS)
    (project / "driver.py").write_text(DRIVER)
    for number, raw in enumerate(raws):
        (maildir / f"{number:06d}.eml").write_bytes(raw)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "benchsettings",
        "PYTHONPATH": str(project),
        "DH_DB": database,
        "DH_MEDIA": str(workdir / "media"),
        "DH_MAILDIR": str(maildir),
    }
    done = subprocess.run(
        [python, str(project / "driver.py")],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"django-helpdesk failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    from bench.mailgen import generate

    with tempfile.TemporaryDirectory() as scratch:
        print(
            run(
                list(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 200)),
                Path(scratch),
                str(Path(scratch) / "dh.db"),
            )
        )
