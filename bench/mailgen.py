"""A seeded generator of realistic support mail for benchmarks and load tests.

It writes conversations: a customer's new request (Danish or English, plain or HTML with a
text alternative, sometimes with an attachment or an inline image), then replies that thread
by each signal hubdesk reads — In-Reply-To, References only, and the `[TKT-…]` subject token.
The same seed always gives the same bytes.

Ticket numbers are predictable on a fresh database: the n-th new request of the run becomes
`TKT-<day>-<n>`, so subject-token replies name the right ticket when messages are ingested in
order on the `day` given.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

DOMAINS = ("kunde-a.dk", "example.com", "firma.dk", "acme.io", "butik.dk", "contoso.net")
FIRST = ("Anne", "Bo", "Camilla", "Jens", "Mette", "Søren", "Ida", "Lars", "Emma", "Oliver")
LAST = ("Jensen", "Nielsen", "Hansen", "Pedersen", "Smith", "Brown", "Østergaard", "Møller")
SUBJECTS_DA = (
    "Printeren virker ikke",
    "Spørgsmål om faktura",
    "Serveren er nede",
    "Kan ikke logge ind",
    "VPN forbindelse haster",
    "Ny medarbejder skal oprettes",
    "Mail kommer ikke frem",
)
SUBJECTS_EN = (
    "Printer not working",
    "Question about invoice",
    "URGENT: production server down",
    "Cannot log in",
    "VPN is very slow",
    "New employee onboarding",
    "Important: backup failed",
)
BODY_DA = (
    "Hej\n\nVi har et problem med {thing} siden i morges. Kan I hjælpe? #{tag}\n\n"
    "Med venlig hilsen\n{name}"
)
BODY_EN = (
    "Hi,\n\nWe have had a problem with {thing} since this morning. Can you help? #{tag}\n\n"
    "Best regards,\n{name}"
)
THINGS = ("the printer", "Outlook", "the VPN", "our website", "the backup job", "the firewall")
TAGS = ("billing", "network", "printer", "vpn", "email", "server", "backup")
REPLY_DA = "Tak for svaret. Det virker stadig ikke, desværre.\n\n{name}"
REPLY_EN = "Thanks for the reply. It still does not work, unfortunately.\n\n{name}"


@dataclass(frozen=True)
class Conversation:
    number: str
    message_ids: list[str]
    sender: str
    name: str
    subject: str
    danish: bool


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = f"{first}.{last}".lower().replace("ø", "oe").replace("å", "aa").replace("æ", "ae")
    return f"{first} {last}", f"{local}@{rng.choice(DOMAINS)}"


def _attach(message: EmailMessage, rng: random.Random) -> None:
    if rng.random() < 0.25:
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(2_000, 60_000)))
        message.add_attachment(
            payload, maintype="application", subtype="pdf", filename="rapport-2025.pdf"
        )
    if rng.random() < 0.1:
        message.add_attachment(
            b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(5_000)),
            maintype="image",
            subtype="png",
            filename="skærmbillede.png",
        )


def _message(
    rng: random.Random,
    *,
    sender: str,
    name: str,
    subject: str,
    body: str,
    when: datetime,
    msgid: str,
    to: str,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: bool = False,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"{name} <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = msgid
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message["Received"] = (
        f"from mx.{sender.split('@')[1]} by mx.support.example.com; {format_datetime(when)}"
    )
    message.set_content(body)
    if html:
        paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n") if line)
        message.add_alternative(
            f"<html><body><div style='font-family:Arial'>{paragraphs}</div></body></html>",
            subtype="html",
        )
    _attach(message, rng)
    return message.as_bytes(policy=SMTP)


def generate(
    count: int, *, seed: int = 1, day: datetime | None = None, subject_tokens: bool = True
) -> Iterator[bytes]:
    """`count` messages: about 45 % new requests and 55 % replies, in a plausible order.
    `subject_tokens=False`: the replies that would name their ticket's predicted number in
    the subject refer to the conversation by References instead (for runs that do not number
    tickets in the corpus's order, such as several workers); the bytes are otherwise the
    same."""
    rng = random.Random(seed)
    day = day or datetime.now(UTC)
    ticket_day = day.strftime("%Y%m%d")
    to = "support@support.example.com"
    conversations: list[Conversation] = []
    when = day.replace(hour=7, minute=0, second=0, microsecond=0)
    for index in range(count):
        when += timedelta(seconds=rng.randint(1, 30))
        msgid = f"<{seed}.{index}.{rng.getrandbits(40):x}@mail.{rng.choice(DOMAINS)}>"
        if not conversations or rng.random() < 0.45:
            name, sender = _person(rng)
            danish = rng.random() < 0.5
            subject = rng.choice(SUBJECTS_DA if danish else SUBJECTS_EN)
            body = (BODY_DA if danish else BODY_EN).format(
                thing=rng.choice(THINGS), tag=rng.choice(TAGS), name=name
            )
            number = f"TKT-{ticket_day}-{len(conversations) + 1:03d}"
            conversations.append(Conversation(number, [msgid], sender, name, subject, danish))
            yield _message(
                rng,
                sender=sender,
                name=name,
                subject=subject,
                body=body,
                when=when,
                msgid=msgid,
                to=to,
                html=rng.random() < 0.4,
            )
            continue
        convo = rng.choice(conversations)
        body = (REPLY_DA if convo.danish else REPLY_EN).format(name=convo.name)
        quoted = "\n".join("> " + line for line in body.splitlines())
        signal = rng.choice(("in_reply_to", "references", "subject"))
        if signal == "subject" and not subject_tokens:
            signal = "references"
        subject = f"Re: {convo.subject}"
        in_reply_to, references = None, None
        if signal == "in_reply_to":
            in_reply_to, references = convo.message_ids[-1], list(convo.message_ids)
        elif signal == "references":
            references = list(convo.message_ids)
        else:
            subject = f"Re: [{convo.number}] {convo.subject}"
        convo.message_ids.append(msgid)
        yield _message(
            rng,
            sender=convo.sender,
            name=convo.name,
            subject=subject,
            body=f"{body}\n\nOn earlier, support wrote:\n{quoted}",
            when=when,
            msgid=msgid,
            to=to,
            in_reply_to=in_reply_to,
            references=references,
            html=rng.random() < 0.3,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="Where to write NNNNNN.eml files")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    for index, raw in enumerate(generate(args.count, seed=args.seed)):
        (args.folder / f"{index:06d}.eml").write_bytes(raw)


if __name__ == "__main__":
    main()
