"""No MIME part is silently dropped (RELIABILITY T09), as a property over generated trees.

Accounting (what "every leaf is stored" means, precisely): for a generated message, take the
multiset of (content type, decoded size) over its MIME leaves - an attached message/rfc822
counts as ONE leaf of its full decoded size, since it is stored whole. The parser must
produce the same multiset from `body_parts` (body leaves) + attachments of origin `mime`
(files and inline parts) + `skipped_parts` (leaves set aside, with a reason). So every leaf
lands in exactly one place, and the stored decoded bytes add up to the leaves' bytes.
Attachment payloads are also compared byte for byte with the generated payloads.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.mail.builders import encode
from tests.unit.mail.conftest import parsed


@dataclass(frozen=True)
class Leaf:
    content_type: str
    payload: bytes
    cte: str | None
    disposition: str | None
    content_id: str | None


@dataclass(frozen=True)
class Container:
    subtype: str
    children: tuple[Leaf | Container, ...]


Node = Leaf | Container

_TEXT = st.text(alphabet="abcdefghij KLMNOP\næøå.,", max_size=120).map(lambda t: t.encode())
_BINARY = st.binary(max_size=300)
_INNER_MESSAGE = st.builds(
    lambda subject, body: f"Subject: {subject}\nFrom: x@y.example\n\n".encode() + body,
    st.text(alphabet="abcxyz ", min_size=1, max_size=20),
    _TEXT,
)
_DISPOSITION = st.sampled_from([None, "inline", "attachment; filename=file.dat"])


def _leaf(
    content_type: str, payload: st.SearchStrategy[bytes], ctes: list[str | None]
) -> st.SearchStrategy[Leaf]:
    return st.builds(
        Leaf,
        st.just(content_type),
        payload,
        st.sampled_from(ctes),
        _DISPOSITION,
        st.sampled_from([None, "cid-a@x", "cid-b@x"]),
    )


_LEAVES = st.one_of(
    _leaf("text/plain", _TEXT, [None, "quoted-printable", "base64"]),
    _leaf("text/html", _TEXT.map(lambda b: b"<p>" + b + b"</p>"), [None, "quoted-printable"]),
    _leaf("application/octet-stream", _BINARY, ["base64"]),
    _leaf("image/png", _BINARY, ["base64"]),
    _leaf("message/rfc822", _INNER_MESSAGE, [None]),
)


def _containers(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.builds(
        Container,
        st.sampled_from(["mixed", "alternative", "related", "report", "x-unknown"]),
        st.lists(children, min_size=1, max_size=4).map(tuple),
    )


_TREES = st.recursive(_LEAVES, _containers, max_leaves=12)


def _depth(node: Node) -> int:
    if isinstance(node, Leaf):
        return 0
    return 1 + max(_depth(child) for child in node.children)


def _render(node: Node, counter: itertools.count[int]) -> bytes:
    """Header block + body of `node`."""
    if isinstance(node, Leaf):
        fields = [f"Content-Type: {node.content_type}"]
        if node.cte:
            fields.append(f"Content-Transfer-Encoding: {node.cte}")
        if node.disposition:
            fields.append(f"Content-Disposition: {node.disposition}")
        if node.content_id:
            fields.append(f"Content-ID: <{node.content_id}>")
        return "\n".join(fields).encode() + b"\n\n" + encode(node.payload, node.cte)
    boundary = f"=_b{next(counter)}_="
    chunks = [f'Content-Type: multipart/{node.subtype}; boundary="{boundary}"\n\n'.encode()]
    for child in node.children:
        chunks.append(f"--{boundary}\n".encode() + _render(child, counter) + b"\n")
    chunks.append(f"--{boundary}--\n".encode())
    return b"".join(chunks)


def _leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _check(tree: Node) -> None:
    raw = b"From: a@b.example\nSubject: generated\nMIME-Version: 1.0\n" + _render(
        tree, itertools.count()
    )
    p = parsed(raw)
    expected = Counter((leaf.content_type, len(leaf.payload)) for leaf in _leaves(tree))
    got = Counter((b.content_type, b.size) for b in p.body_parts)
    got.update((a.content_type, a.size) for a in p.attachments if a.origin == "mime")
    got.update((s.content_type, s.size) for s in p.skipped_parts)
    assert got == expected
    assert sum(n * size for (_, size), n in got.items()) == sum(
        len(leaf.payload) for leaf in _leaves(tree)
    )
    payloads = Counter(leaf.payload for leaf in _leaves(tree))
    for attachment in p.attachments:
        assert payloads[attachment.payload] > 0, "attachment bytes differ from every leaf"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(_TREES.filter(lambda t: _depth(t) <= 5))
def test_every_leaf_is_accounted_for(tree: Node) -> None:
    """T09: every leaf is body, attachment, inline attachment or skipped, bytes preserved."""
    _check(tree)


@settings(max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_TREES.filter(lambda t: _depth(t) <= 5))
@pytest.mark.long
def test_every_leaf_is_accounted_for_long_run(tree: Node) -> None:
    """T09 long run: the same property over 20,000 generated trees."""
    _check(tree)
