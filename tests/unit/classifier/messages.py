"""Hand-written Danish and English messages for the classifier's unit tests.

Every message here was written for these tests (no corpus mail). `SANITY_SET` trains a
three-label model (support_request, invoice, newsletter), half Danish and half English;
`HELD_OUT` are new messages of the same kinds, in other words and inflections, that a model
trained on `SANITY_SET` has never seen. `HAM_SPAM` is a small two-label set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP

from hubdesk.classifier.corpus import LabelledMessage


def build_raw(
    subject: str,
    body: str,
    *,
    sender: str = "Kunde <kunde@example.dk>",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """RFC 822 bytes of one message built with the standard library."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = "support@hubdesk.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Mar 2025 09:00:00 +0100"
    digest = hashlib.sha256(f"{subject}\n{body}".encode()).hexdigest()[:16]
    message["Message-ID"] = f"<{digest}@example.dk>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        name, payload = attachment
        message.add_attachment(payload, maintype="application", subtype="pdf", filename=name)
    return message.as_bytes()


SUPPORT_REQUESTS = (
    ("Kan ikke logge ind", "Hej, jeg kan ikke logge ind i systemet. Adgangskoden virker ikke."),
    ("Printeren virker ikke", "Hej, printeren på kontoret virker ikke længere. Kan I hjælpe?"),
    ("Fejl i programmet", "Vi får en fejl når vi gemmer. Kan I se på det hurtigst muligt?"),
    ("Glemt adgangskode", "Jeg har glemt min adgangskode og kan ikke logge ind. Hjælp."),
    ("Serveren er nede", "Serveren svarer ikke og ingen kan arbejde. Kan I hjælpe os?"),
    ("VPN virker ikke", "Min VPN forbindelse virker ikke hjemmefra. Hvad skal jeg gøre?"),
    ("Mail kommer ikke frem", "Vores mail kommer ikke frem til kunderne. Kan I undersøge det?"),
    ("Cannot log in", "Hi, I cannot log in to the portal. My password is not accepted."),
    ("Printer not working", "Hello, the office printer is not working. Can you help?"),
    ("Error when saving", "We get an error when we save the file. Can you look at it?"),
    ("Forgot my password", "I forgot my password and cannot log in. Please help."),
    ("Server is down", "The server is not responding and nobody can work. Please help us."),
    ("VPN not working", "My VPN connection is not working from home. What should I do?"),
    ("Email not arriving", "Our email is not arriving at customers. Could you investigate?"),
)

INVOICES = (
    ("Faktura 1042", "Hermed faktura nr. 1042. Beløbet bedes betalt inden 14 dage."),
    ("Faktura for marts", "Vedhæftet er faktura for marts. Betaling til konto 1234-5678."),
    ("Ny faktura", "Vi fremsender hermed faktura. Forfaldsdato og beløb fremgår af faktura."),
    ("Faktura fra Kontorland", "Faktura nr. 88 for kontorartikler. Beløb 1.250 kr. inkl. moms."),
    ("Rykker: faktura", "Vi har ikke modtaget betaling for faktura 77. Beløbet er forfaldent."),
    ("Kreditnota og faktura", "Hermed kreditnota og ny faktura. Betales via bankoverførsel."),
    (
        "Din faktura er klar",
        "Din faktura er klar. Beløb inkl. moms: 499 kr. Betales senest fredag.",
    ),
    ("Invoice 2211", "Please find invoice 2211 attached. Payment is due within 30 days."),
    ("Invoice for March", "Attached is the invoice for March. Please pay to account 1234."),
    ("New invoice", "We hereby send our invoice. The due date and amount are on the invoice."),
    ("Invoice from Office Supply", "Invoice no. 88 for office supplies. Amount 250 EUR incl. VAT."),
    ("Reminder: unpaid invoice", "We have not received payment for invoice 77. It is overdue."),
    ("Credit note and invoice", "Here is a credit note and a new invoice. Pay by bank transfer."),
    ("Your invoice is ready", "Your invoice is ready. Amount incl. VAT: 49 EUR. Due on Friday."),
)

NEWSLETTERS = (
    ("Nyhedsbrev marts", "Månedens nyheder og tilbud. Afmeld nyhedsbrev her: klik på linket."),
    ("Ugens tilbud", "Se ugens bedste tilbud i vores butik. Afmeld nyhedsbrevet nederst."),
    ("Nyt fra os", "Læs de seneste nyheder fra os. Du modtager denne mail som abonnent."),
    ("Sommerudsalg", "Sommerudsalget er startet med store rabatter. Afmeld nyhedsbrev her."),
    ("Nyhedsbrev april", "Forårets nyheder og arrangementer. Frameld dig nyhedsbrevet her."),
    (
        "Inspiration til weekenden",
        "Få inspiration og gode tilbud. Afmeld nyhedsbrevet med et klik.",
    ),
    ("Månedens nyheder", "Her er månedens nyheder fra butikken. Afmeld nyhedsbrev nederst."),
    ("Newsletter March", "News and offers of the month. Unsubscribe from this newsletter here."),
    ("Weekly deals", "See the best deals of the week in our shop. Unsubscribe at the bottom."),
    ("News from us", "Read the latest news from us. You receive this email as a subscriber."),
    ("Summer sale", "The summer sale has started with big discounts. Unsubscribe here."),
    ("April newsletter", "Spring news and events. Click here to unsubscribe from the newsletter."),
    ("Weekend inspiration", "Get inspiration and great offers. Unsubscribe with one click."),
    ("This month's news", "Here is this month's news from the shop. Unsubscribe at the bottom."),
)

SANITY_SET = {
    "support_request": SUPPORT_REQUESTS,
    "invoice": INVOICES,
    "newsletter": NEWSLETTERS,
}

HELD_OUT = (
    (
        "support_request",
        "Hjælp: kan ikke logge på",
        "Jeg kan ikke logge på min konto. Hvad gør jeg?",
    ),
    ("support_request", "Skærmen virker ikke", "Min skærm virker ikke efter opdateringen. Hjælp."),
    ("support_request", "Login fails", "I cannot log in since yesterday. Can you help me?"),
    (
        "invoice",
        "Fakturaen for april",
        "Fakturaen for april er vedhæftet. Beløbet betales inden 8 dage.",
    ),
    ("invoice", "Fakturanummer 5521", "Hermed fakturaen. Beløb 2.000 kr. inkl. moms."),
    ("invoice", "Invoice 9001", "Invoice attached. Amount due: 120 EUR incl. VAT."),
    ("newsletter", "Nyhedsbrev maj", "Maj måneds nyheder og tilbud. Afmeld nyhedsbrevet her."),
    ("newsletter", "Vinterudsalg", "Vinterudsalget er i gang med rabatter. Afmeld her."),
    (
        "newsletter",
        "May newsletter",
        "News and offers for May. Unsubscribe from the newsletter here.",
    ),
)

HAM = (
    ("Møde i morgen", "Hej Bo, skal vi flytte mødet i morgen til kl. 10? Hilsen Anne"),
    ("Referat fra mødet", "Hej alle, her er referatet fra mødet i går. Mvh Jens"),
    ("Frokost fredag", "Skal vi spise frokost sammen på fredag? Hilsen Mette"),
    ("Projektplan", "Hej, jeg har opdateret projektplanen. Sig til hvis noget mangler."),
    ("Meeting tomorrow", "Hi Bo, can we move tomorrow's meeting to 10 am? Regards, Anne"),
    ("Notes from the meeting", "Hi all, here are the notes from yesterday's meeting. Jens"),
    ("Lunch on Friday", "Shall we have lunch together on Friday? Cheers, Mette"),
    ("Project plan", "Hi, I updated the project plan. Tell me if anything is missing."),
)

SPAM = (
    (
        "VIND EN IPHONE NU!!!",
        "Du er udvalgt! Klik her og VIND en gratis iPhone! Tilbuddet udløber!",
    ),
    ("Tjen penge hjemmefra", "Tjen 50.000 kr om ugen hjemmefra! Klik her NU! Gratis tilmelding!"),
    ("BILLIGE PILLER", "Køb billige piller uden recept! Klik her for gratis levering NU!"),
    (
        "Du har vundet!!!",
        "Tillykke! Du har vundet 1.000.000 kr! Klik her og send dine oplysninger!",
    ),
    ("WIN A FREE IPHONE!!!", "You have been selected! Click here to WIN a free iPhone NOW!"),
    ("Make money from home", "Earn $5000 a week from home! Click here NOW! Free sign up!"),
    ("CHEAP PILLS", "Buy cheap pills without prescription! Click here for free shipping NOW!"),
    ("You have won!!!", "Congratulations! You have won $1,000,000! Click here and send details!"),
)


def labelled(sets: Mapping[str, Sequence[tuple[str, str]]]) -> list[LabelledMessage]:
    """Samples from `{label: ((subject, body), ...)}`, in a stable order."""
    return [
        LabelledMessage(build_raw(subject, body), label, f"{label}/{n}")
        for label, messages in sets.items()
        for n, (subject, body) in enumerate(messages)
    ]


def sanity_samples() -> list[LabelledMessage]:
    """The Danish/English three-label set."""
    return labelled(SANITY_SET)


def ham_spam_samples() -> list[LabelledMessage]:
    """The Danish/English two-label set."""
    return labelled({"ham": HAM, "spam": SPAM})
