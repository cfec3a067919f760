"""Which requests a group commit takes: never more than MAX_BATCH, always the leader's own."""

from __future__ import annotations

from hubdesk.inbound import group_commit
from hubdesk.inbound.service import Received


def _requests(count: int) -> list[group_commit._Request]:
    return [group_commit._Request(b"", Received("", n, "lmtp"), None, None) for n in range(count)]


def test_a_leader_beyond_the_first_batch_commits_its_own_request() -> None:
    queue = _requests(group_commit.MAX_BATCH + 100)
    leader = queue[group_commit.MAX_BATCH + 50]
    batch = group_commit._take(queue, leader)
    assert len(batch) == group_commit.MAX_BATCH
    assert batch[0] is leader
    assert batch[1:] == queue[: group_commit.MAX_BATCH - 1]


def test_a_leader_within_the_first_batch_takes_the_oldest() -> None:
    queue = _requests(group_commit.MAX_BATCH + 10)
    assert group_commit._take(queue, queue[3]) == queue[: group_commit.MAX_BATCH]
    short = _requests(4)
    assert group_commit._take(short, short[2]) == short
