"""Admin: the priority keywords (`/admin/priority-keywords`, `priority.manage`): the words by
level, language and where they are looked for; add one, remove one. Changes reach ingest on
its next ticket (`hubdesk.priority.service` bumps the keyword version)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from hubdesk.access.deps import SessionDep
from hubdesk.api.limits import Id
from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.priority import service
from hubdesk.priority.models import LANGUAGES, LEVELS, SCOPES
from hubdesk.users.permissions import PRIORITY_MANAGE
from hubdesk.web.ui import flash, i18n
from hubdesk.web.ui.routing import ViewerDep, form_refused, page_router
from hubdesk.web.ui.templating import language_of, render

router = page_router()
PAGE = "/admin/priority-keywords"
TextField = Annotated[str, Form()]


def _context(session: SessionDep, viewer: ViewerDep, typed: dict[str, str]) -> dict[str, object]:
    return {
        "keywords": service.list_keywords(session, viewer.principal),
        "levels": LEVELS,
        "keyword_languages": LANGUAGES,
        "scopes": SCOPES,
        "typed": typed,
        "problems": [],
    }


@router.get(PAGE)
def keywords_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    viewer.principal.require(PRIORITY_MANAGE)
    typed = {"word": "", "level": "high", "language": "en", "scope": "subject"}
    return render(request, "admin_priority.html", _context(session, viewer, typed))


@router.post(PAGE)
def add_keyword(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    word: TextField = "",
    level: TextField = "",
    language: TextField = "",
    scope: TextField = "subject",
) -> Response:
    viewer.principal.require(PRIORITY_MANAGE)
    _ = i18n.translator(language_of(request))
    typed = {"word": word, "level": level, "language": language, "scope": scope}
    try:
        row = service.add_keyword(session, viewer.principal, word, level, language, scope)
    except (ValidationFailed, Conflict) as exc:
        message = (
            _("Enter the keyword.") if not word.strip() else i18n.said(language_of(request), exc)
        )
        form_refused(request, "admin_priority.html", _context(session, viewer, typed), message)
    return flash.redirect(request, PAGE, _("Keyword {word} added.", word=row.word))


@router.post(PAGE + "/{keyword_id}/delete")
def delete_keyword(
    request: Request, keyword_id: Id, session: SessionDep, viewer: ViewerDep
) -> Response:
    row = service.get_keyword(session, viewer.principal, keyword_id)
    service.delete_keyword(session, viewer.principal, row)
    _ = i18n.translator(language_of(request))
    return flash.redirect(request, PAGE, _("Keyword {word} removed.", word=row.word))
