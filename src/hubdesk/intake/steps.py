"""Running a list of workflow steps against one email: the action registry and the loop.

Steps run in order inside the caller's transaction and see what earlier steps did (the run
state). A step that fails raises `StepFailed` naming its index and action; the engine rolls
that workflow back with a savepoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from hubdesk.intake import actions, ticket_actions
from hubdesk.intake.actions import Action, ActionEnv, RunState
from hubdesk.intake.record import Mail

ACTIONS: Final[dict[str, Action]] = {
    "create_ticket": actions.create_ticket,
    "link_email_to_ticket": actions.link_email_to_ticket,
    "assign_ticket": ticket_actions.assign_ticket,
    "set_priority": ticket_actions.set_priority,
    "set_status": ticket_actions.set_status,
    "add_tags": ticket_actions.add_tags,
    "set_customer": ticket_actions.set_customer,
    "add_internal_note": ticket_actions.add_internal_note,
    "send_auto_reply": ticket_actions.send_auto_reply,
    "mark_spam": ticket_actions.mark_spam,
    "ignore": ticket_actions.ignore,
}


class StepFailed(Exception):
    """A step raised; `results` holds what the steps before it returned."""

    def __init__(self, index: int, action: str, error: BaseException, results: list[Any]):
        super().__init__(f"step {index} ({action}) failed: {type(error).__name__}: {error}")
        self.index, self.action, self.error, self.results = index, action, error, results


def run_steps(
    env: ActionEnv, mail: Mail, steps: Sequence[Mapping[str, Any]], state: RunState
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for index, step in enumerate(steps):
        action = str(step.get("action"))
        handler = ACTIONS.get(action)
        try:
            if handler is None:
                raise KeyError(f"unknown action {action!r}")
            outcome = handler(env, mail, step.get("params") or {}, state)
        except Exception as exc:
            results.append(
                {
                    "index": index,
                    "action": action,
                    "status": "failed",
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
            raise StepFailed(index, action, exc, results) from exc
        results.append({"index": index, "action": action, "status": "completed", "result": outcome})
    return results
