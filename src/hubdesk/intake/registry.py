"""The one action registry: every workflow action's name, its typed parameters and its handler.

A handler receives the run's environment, the mail, its parameters already read into their
model (`hubdesk.workflows.params`; the planner reads a stored step once) and the run's
`Progress`, and returns a typed `ActionResult`. Nothing else maps names to handlers: the
planner, the executor, workflow validation and the action catalog all read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from hubdesk.intake import actions, ticket_actions
from hubdesk.intake.actions import ActionEnv
from hubdesk.intake.types import ActionResult, Mail, Progress
from hubdesk.workflows import params as p

P = TypeVar("P", bound=p.Params)


@dataclass(frozen=True, slots=True)
class Action(Generic[P]):
    params: type[P]
    handler: Callable[[ActionEnv, Mail, P, Progress], ActionResult]

    def run(self, env: ActionEnv, mail: Mail, params: p.Params, progress: Progress) -> ActionResult:
        if not isinstance(params, self.params):
            raise TypeError(f"{type(params).__name__} is not {self.params.__name__}")
        return self.handler(env, mail, params, progress)


ACTIONS: Final[dict[str, Action[Any]]] = {
    "create_ticket": Action(p.CreateTicket, actions.create_ticket),
    "link_email_to_ticket": Action(p.LinkEmailToTicket, actions.link_email_to_ticket),
    "assign_ticket": Action(p.AssignTicket, ticket_actions.assign_ticket),
    "set_priority": Action(p.SetPriority, ticket_actions.set_priority),
    "set_status": Action(p.SetStatus, ticket_actions.set_status),
    "add_tags": Action(p.AddTags, ticket_actions.add_tags),
    "set_customer": Action(p.SetCustomer, ticket_actions.set_customer),
    "add_internal_note": Action(p.AddInternalNote, ticket_actions.add_internal_note),
    "send_auto_reply": Action(p.SendAutoReply, ticket_actions.send_auto_reply),
    "mark_spam": Action(p.MarkSpam, ticket_actions.mark_spam),
    "ignore": Action(p.Ignore, ticket_actions.ignore),
}
assert set(ACTIONS) == set(p.ACTION_PARAMS), "every action has its parameters and its handler"
