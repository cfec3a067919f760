"""The agent web UI: server-rendered pages for agents and admins, installed on the app.

`install(app)` adds the security headers to every response, serves `static/` (one CSS file,
one small script), and includes the page routers. The pages call the same services as the
API, start every ticket read from `hubdesk.tickets.visibility`, and render through one Jinja2
environment with autoescape on (`templating`). Sessions, CSRF and the failed-login limit are
`hubdesk.access.sessions`.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hubdesk.web.ui import (
    account_pages,
    admin_inbound,
    admin_mailboxes,
    admin_outbox,
    admin_priority,
    admin_sla,
    admin_users,
    admin_workflows,
    auth,
    canned_pages,
    customer_forms,
    customer_pages,
    dashboard,
    live,
    mail_frame,
    new_ticket,
    prepaid_pages,
    report_pages,
    saved_views,
    ticket_automation,
    ticket_bulk,
    ticket_files,
    ticket_forms,
    ticket_list,
    ticket_page,
    token_pages,
    triage_pages,
)
from hubdesk.web.ui.routing import PageAnswer, send_page_answer
from hubdesk.web.ui.security import SecurityHeaders
from hubdesk.web.ui.templating import shared_environment


def install(app: FastAPI) -> None:
    app.state.ui_templates = shared_environment()
    app.state.ui_live = live.Live()
    app.add_exception_handler(PageAnswer, send_page_answer)
    app.add_middleware(SecurityHeaders)
    static = resources.files("hubdesk.web.ui").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in (
        auth.login_router,
        auth.router,
        dashboard.router,
        ticket_list.router,
        ticket_bulk.router,
        saved_views.router,
        new_ticket.router,
        ticket_page.router,
        ticket_forms.router,
        ticket_files.router,
        live.router,
        canned_pages.router,
        ticket_automation.router,
        mail_frame.router,
        mail_frame.image_router,
        customer_forms.router,
        customer_pages.router,
        prepaid_pages.router,
        triage_pages.router,
        account_pages.router,
        token_pages.router,
        admin_users.router,
        admin_inbound.router,
        admin_workflows.router,
        admin_outbox.router,
        admin_mailboxes.router,
        admin_priority.router,
        report_pages.router,
        admin_sla.router,
    ):
        app.include_router(router)
