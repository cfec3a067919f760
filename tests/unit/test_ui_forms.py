"""Reading ids from HTML forms: a value that cannot be an id is refused with the field named,
never passed on to overflow a database column."""

from __future__ import annotations

import pytest

from hubdesk.api.limits import MAX_INT
from hubdesk.errors import ValidationFailed
from hubdesk.web.ui.forms import id_list, optional_id


def test_ids_within_the_limit_are_read() -> None:
    assert optional_id(" 42 ", "contact") == 42
    assert optional_id(str(MAX_INT), "contact") == MAX_INT
    assert optional_id("", "contact") is None
    assert id_list(["1", "", "2"], "attachment") == [1, 2]


@pytest.mark.parametrize("value", [str(MAX_INT + 1), str(2**63), "9" * 5000, "²", "-1", "1.5"])
def test_values_that_are_no_id_are_refused(value: str) -> None:
    with pytest.raises(ValidationFailed, match="contact must be chosen from the list"):
        optional_id(value, "contact")
