"""Admin: mailboxes (`/admin/mailboxes`), for holders of `mailboxes.manage`.

The list shows each mailbox's state (ok, error, not checked yet, disabled) with the last
error in the server's own words, the last success, and the addresses it receives for.
Creating, changing and removing go through `hubdesk.mailboxes.service`, which checks the IMAP
URL, the folders and the actions together and audits every change; a refused form comes
back as entered with the reason. A password is never asked for or shown: a mailbox names the
environment variable that holds it, and the page says only whether this server can find it.
A refused form does not echo what may be a password: an IMAP URL with `user:...@`, or a
variable name that is not one (someone may paste the password there). Until an IMAP account
has been polled, the form offers to import the mail its folder holds already (off by
default: only mail delivered after the mailbox is added is taken).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Annotated, Any, Final, NoReturn

from fastapi import Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from hubdesk.access.deps import RuntimeDep, SessionDep
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.mailboxes import secrets
from hubdesk.mailboxes import service as mailboxes
from hubdesk.mailboxes.models import Mailbox
from hubdesk.runtime import Runtime
from hubdesk.users import teams
from hubdesk.users.permissions import MAILBOXES_MANAGE
from hubdesk.web.ui import flash, forms, i18n
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
MAX_MAILBOXES: Final = 500
_SECRET_NAME: Final = re.compile(r"\A\s*[A-Za-z_][A-Za-z0-9_]{0,199}\s*\Z")
TextField = Annotated[str, Form()]
OptionalField = Annotated[str | None, Form()]


@dataclass(frozen=True, slots=True)
class MailboxForm:
    """The mailbox form as the admin filled it in."""

    name: str = ""
    addresses: str = ""
    enabled: bool = True
    imap_url: str = ""
    password_env: str = ""
    processed_action: str = "seen"
    processed_folder: str = ""
    oversized_action: str = "leave"
    oversized_folder: str = ""
    import_existing: bool = False
    team_id: str = ""
    """The chosen group's id as the select sent it; empty: no team."""

    @classmethod
    def of(cls, mailbox: Mailbox) -> MailboxForm:
        return cls(
            name=mailbox.name,
            addresses="\n".join(mailbox.addresses),
            enabled=mailbox.enabled,
            imap_url=mailbox.imap_url or "",
            password_env=mailbox.password_env or "",
            processed_action=mailbox.processed_action,
            processed_folder=mailbox.processed_folder or "",
            oversized_action=mailbox.oversized_action,
            oversized_folder=mailbox.oversized_folder or "",
            import_existing=mailbox.import_from is None,
            team_id=str(mailbox.team_id) if mailbox.team_id is not None else "",
        )

    def without_secrets(self) -> MailboxForm:
        """The form to show again: an IMAP URL that may carry a password, and a password
        variable name that is no name, are left out."""
        rest = self.imap_url.partition("://")[2]
        url_has_password = ":" in rest.rpartition("@")[0]
        return replace(
            self,
            imap_url="" if url_has_password else self.imap_url,
            password_env=self.password_env if self.names_a_variable() else "",
        )

    def names_a_variable(self) -> bool:
        return not self.password_env.strip() or bool(_SECRET_NAME.match(self.password_env))

    def settings(self) -> dict[str, Any]:
        """What the service takes (empty fields are "none")."""
        return {
            "name": self.name,
            "addresses": forms.address_list(self.addresses),
            "enabled": self.enabled,
            "imap_url": forms.optional_text(self.imap_url),
            "password_env": forms.optional_text(self.password_env),
            "processed_action": self.processed_action,
            "processed_folder": forms.optional_text(self.processed_folder),
            "oversized_action": self.oversized_action,
            "oversized_folder": forms.optional_text(self.oversized_folder),
            "import_existing": self.import_existing,
            "team_id": forms.optional_id(self.team_id, "team"),
        }


def mailbox_form(
    name: TextField = "",
    addresses: TextField = "",
    enabled: OptionalField = None,
    imap_url: TextField = "",
    password_env: TextField = "",
    processed_action: TextField = "seen",
    processed_folder: TextField = "",
    oversized_action: TextField = "leave",
    oversized_folder: TextField = "",
    import_existing: OptionalField = None,
    team_id: TextField = "",
) -> MailboxForm:
    return MailboxForm(
        name=name,
        addresses=addresses,
        enabled=forms.checked(enabled),
        imap_url=imap_url,
        password_env=password_env,
        processed_action=processed_action,
        processed_folder=processed_folder,
        oversized_action=oversized_action,
        oversized_folder=oversized_folder,
        import_existing=forms.checked(import_existing),
        team_id=team_id,
    )


FormDep = Annotated[MailboxForm, Depends(mailbox_form)]


def password_found(mailbox: Mailbox, runtime: Runtime) -> bool | None:
    """Whether this server finds the mailbox's password (None: no IMAP account)."""
    if mailbox.password_env is None:
        return None
    return secrets.is_available(mailbox.password_env, runtime.settings)


def backlog_open(mailbox: Mailbox | None) -> bool:
    """Whether importing the folder's existing mail can still be chosen (not yet polled)."""
    return mailbox is None or mailbox.uidvalidity is None


def form_context(
    mailbox: Mailbox | None, values: MailboxForm, runtime: Runtime, session: Session
) -> dict[str, Any]:
    return {
        "teams": teams.team_names(session),
        "mailbox": mailbox,
        "values": values,
        "processed_actions": mailboxes.PROCESSED_ACTIONS,
        "oversized_actions": mailboxes.OVERSIZED_ACTIONS,
        "password_found": password_found(mailbox, runtime) if mailbox is not None else None,
        "backlog_open": backlog_open(mailbox),
        "problems": [],
    }


@router.get("/admin/mailboxes")
def mailbox_list(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    found = mailboxes.list_mailboxes(session, viewer.principal, limit=MAX_MAILBOXES, offset=0)
    return render(
        request,
        "admin_mailboxes.html",
        {
            "rows": [(m, password_found(m, runtime)) for m in found.items],
            "total": found.total,
            "teams": teams.team_names(session),
        },
    )


@router.get("/admin/mailboxes/new")
def new_mailbox(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    viewer.principal.require(MAILBOXES_MANAGE)
    return render(
        request, "admin_mailbox.html", form_context(None, MailboxForm(), runtime, session)
    )


@router.post("/admin/mailboxes")
def create_mailbox(
    request: Request, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep, values: FormDep
) -> Response:
    viewer.principal.require(MAILBOXES_MANAGE)
    try:
        mailbox = mailboxes.create_mailbox(session, viewer.principal, **values.settings())
    except (ValidationFailed, Conflict) as exc:
        context = form_context(None, values.without_secrets(), runtime, session)
        form_refused(request, "admin_mailbox.html", context, _safe_message(values, exc))
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/mailboxes", _("Mailbox {name} saved.", name=mailbox.name)
    )


@router.get("/admin/mailboxes/{mailbox_id}")
def mailbox_page(
    request: Request, mailbox_id: int, session: SessionDep, viewer: ViewerDep, runtime: RuntimeDep
) -> Response:
    mailbox = mailboxes.get_mailbox(session, viewer.principal, mailbox_id)
    context = form_context(mailbox, MailboxForm.of(mailbox), runtime, session)
    return render(request, "admin_mailbox.html", context)


@router.post("/admin/mailboxes/{mailbox_id}")
def update_mailbox(
    request: Request,
    mailbox_id: int,
    session: SessionDep,
    viewer: ViewerDep,
    runtime: RuntimeDep,
    values: FormDep,
) -> Response:
    mailbox = mailboxes.get_mailbox(session, viewer.principal, mailbox_id)
    try:
        settings = values.settings()
        if not backlog_open(mailbox):
            del settings["import_existing"]  # not offered once the account has been polled
        mailboxes.update_mailbox(session, viewer.principal, mailbox, settings)
    except (ValidationFailed, Conflict) as exc:
        _refused(request, session, mailbox_id, values, runtime, _safe_message(values, exc))
    _ = i18n.translator(language_of(request))
    return flash.redirect(
        request, "/admin/mailboxes", _("Mailbox {name} saved.", name=mailbox.name)
    )


def _refused(
    request: Request,
    session: Session,
    mailbox_id: int,
    values: MailboxForm,
    runtime: Runtime,
    message: str,
) -> NoReturn:
    """The edit form again; the mailbox as stored (the service may have changed some fields
    of the loaded row before it refused, which the rollback undoes)."""
    session.expire_all()
    stored = session.get(Mailbox, mailbox_id)
    context = form_context(stored, values.without_secrets(), runtime, session)
    form_refused(request, "admin_mailbox.html", context, message)


def _safe_message(values: MailboxForm, exc: Exception) -> str:
    """The service's reason, without the text of a password field that names no variable
    (the service quotes what it refused)."""
    message = str(exc)
    if not values.names_a_variable():
        message = message.replace(repr(values.password_env), "the value entered")
        message = message.replace(values.password_env.strip(), "…")
    return message


@router.post("/admin/mailboxes/{mailbox_id}/delete")
def delete_mailbox(
    request: Request, mailbox_id: int, session: SessionDep, viewer: ViewerDep
) -> Response:
    mailbox = mailboxes.get_mailbox(session, viewer.principal, mailbox_id)
    name = mailbox.name
    mailboxes.delete_mailbox(session, viewer.principal, mailbox)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, "/admin/mailboxes", _("Mailbox {name} removed.", name=name))
