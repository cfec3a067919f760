"""Feature extraction: what the model sees of a message, that verdict headers and transport
headers never reach it, and that every feature can be described to a person."""

from __future__ import annotations

from collections import Counter

import pytest

from hubdesk.classifier.features import (
    FAMILY_OF_PREFIX,
    LEAKING_HEADERS,
    FeatureConfig,
    describe_feature,
    extract_features,
    family_of,
    fragment_features,
)
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail
from tests.unit.classifier.messages import build_raw

CONFIG = FeatureConfig()


def _parsed(raw: bytes) -> ParsedEmail:
    parsed = parse_email(raw)
    assert isinstance(parsed, ParsedEmail)
    return parsed


def _features(raw: bytes, config: FeatureConfig = CONFIG) -> Counter[str]:
    return extract_features(_parsed(raw), config)


def test_danish_words_keep_their_letters_and_are_lowercased() -> None:
    features = _features(build_raw("Spørgsmål om FAKTURA", "Beløbet på fakturaen er forkert."))
    assert features["s:spørgsmål"] == 1
    assert features["s:faktura"] == 1
    assert features["w:beløbet"] == 1
    assert features["w:fakturaen"] == 1
    assert features["b:beløbet på"] == 1


def test_numbers_become_their_shape_so_amounts_generalise() -> None:
    features = _features(build_raw("Faktura 1042", "Beløb 499 kr."))
    assert features["s:9999"] == 1
    assert features["w:999"] == 1


def test_character_fragments_are_taken_inside_words_with_boundaries() -> None:
    assert fragment_features("faktura", 3, 4)[:3] == ("c: fa", "c:fak", "c:akt")
    assert "c: fak" in fragment_features("faktura", 3, 4)
    assert "c:ura " in fragment_features("faktura", 3, 4)
    assert fragment_features("ab", 3, 5) == ("c: ab", "c:ab ", "c: ab ")
    features = _features(build_raw("x", "fakturaen fakturanummer"))
    assert features["c: fakt"] == 2
    off = _features(build_raw("x", "fakturaen"), FeatureConfig(char_max=0))
    assert not any(name.startswith("c:") for name in off)


def test_links_are_counted_and_named_by_domain() -> None:
    body = "See https://www.shop.example.com/x and http://10.0.0.1/login and www.other.dk"
    features = _features(build_raw("Offer", body))
    assert features["u:example.com"] == 1
    assert features["u:ip-address"] == 1
    assert features["u:other.dk"] == 1
    assert features["x:links=2-3"] == 1


def test_structure_facts_cover_html_attachments_and_shouting() -> None:
    raw = build_raw(
        "BUY NOW CHEAP WATCHES",
        "BUY NOW!!! THE BEST WATCHES FOR YOU TODAY",
        html='<p>Hi <a href="https://a.example.org">here</a><img src="cid:x"></p>',
        attachment=("faktura.pdf", b"%PDF-1.4"),
    )
    features = _features(raw)
    assert features["x:shape=text-and-html"] == 1
    assert features["x:html-links=1"] == 1
    assert features["x:attachments=1"] == 1
    assert features["a:extension=pdf"] == 1
    assert features["x:subject-shouting"] == 1
    assert features["x:uppercase=50%+"] == 1
    assert features["x:exclamations=2-3"] == 1


def test_sender_side_headers_are_features() -> None:
    raw = build_raw(
        "Nyhedsbrev",
        "Nyheder",
        sender="Butik <news@butik.dk>",
        headers={
            "X-Mailer": "Microsoft Outlook 16.0",
            "List-Unsubscribe": "<mailto:leave@butik.dk>",
            "Precedence": "bulk",
            "In-Reply-To": "<a@b>",
        },
    )
    features = _features(raw)
    assert features["h:from-domain=butik.dk"] == 1
    assert features["h:from-tld=dk"] == 1
    assert features["h:x-mailer=microsoft"] == 1
    assert features["h:list-unsubscribe=mailto"] == 1
    assert features["h:precedence=bulk"] == 1
    assert features["h:flag=bulk"] == 1
    assert features["h:in-reply-to"] == 1


@pytest.mark.parametrize(
    "header",
    [
        "X-Spam-Status: Yes, score=15.2 required=5.0",
        "X-Spam-Flag: YES",
        "X-Spam-Level: ***************",
        "X-Spam: spam",
        "X-Bogosity: Spam, tests=bogofilter",
        "X-DSPAM-Result: Spam",
        "X-Microsoft-Antispam: BCL:9;",
        "X-MailScanner-SpamCheck: spam",
        "Received: from spamtrap.example.net by mx.example.com",
        "Delivered-To: spamtrap@example.com",
        "Return-Path: <bounce@spam.example>",
        "Delivery-Date: Mon, 03 Mar 2025 10:00:00 +0100",
        "X-Keywords: junk",
        "Status: RO",
        "X-Status: A",
    ],
)
def test_verdict_and_transport_headers_never_change_the_features(header: str) -> None:
    plain = build_raw("Hello", "Body text")
    name, _, value = header.partition(": ")
    tagged = build_raw("Hello", "Body text", headers={name: value})
    assert name.encode() in tagged
    assert _features(tagged) == _features(plain)


def test_leaking_header_list_names_the_spam_filter_families() -> None:
    assert "x-spam" in LEAKING_HEADERS
    assert all(name == name.lower() for name in LEAKING_HEADERS)


def test_recipient_addresses_are_not_features_only_their_number() -> None:
    features = _features(build_raw("Hi", "Text"))
    assert not any("hubdesk.example" in name for name in features)
    assert features["h:recipients=1"] == 1


def test_every_family_prefix_maps_to_a_family() -> None:
    assert {family_of(prefix + ":x") for prefix in FAMILY_OF_PREFIX} == {
        "words",
        "chars",
        "meta",
        "headers",
        "subject",
    }


def test_header_names_words_and_shapes_are_features() -> None:
    raw = build_raw(
        "Hello there",
        "Body text",
        headers={"X-Mailer": "Microsoft Outlook Express 6.00", "X-No-Archive": "yes"},
    )
    features = _features(raw)
    assert features["n:x-no-archive"] == 1
    assert features["t:x-mailer:outlook"] == 1
    assert features["t:x-no-archive:yes"] == 1
    assert any(name.startswith("m:id-shape=") for name in features)
    assert any(name.startswith("m:date-shape=") for name in features)
    assert features["j: hel"] == 1
    assert not any(name.startswith(("n:to", "t:to:", "n:received")) for name in features)


@pytest.mark.parametrize(
    ("feature", "text"),
    [
        ("w:unsubscribe", 'word "unsubscribe"'),
        ("s:faktura", 'subject word "faktura"'),
        ("b:click here", 'words "click here"'),
        ("c: fak", 'text fragment "fak"'),
        ("u:example.com", "link to example.com"),
        ("h:x-mailer=outlook", "header X-Mailer: outlook"),
        ("h:from-domain=butik.dk", "header From domain: butik.dk"),
        ("h:in-reply-to", "is a reply (In-Reply-To/References)"),
        ("x:links=8-15", "many links (8-15)"),
        ("x:links=32+", "many links (32+)"),
        ("x:links=2-3", "2-3 links"),
        ("x:links=1", "1 link"),
        ("x:exclamations=0", "no exclamation marks"),
        ("x:length-kb=0", "body under 1 KB"),
        ("x:length-kb=4-7", "body 4-7 KB"),
        ("x:uppercase=50%+", "uppercase letters 50%+"),
        ("x:shape=html-only", "HTML only, no text part"),
        ("a:extension=pdf", "attachment extension pdf"),
        ("n:x-no-archive", "header x-no-archive present"),
        ("t:x-mailer:outlook", 'header x-mailer has "outlook"'),
        ("m:id-shape=9a", "Message-ID shape 9a"),
        ("j:sale", 'subject fragment "sale"'),
    ],
)
def test_features_are_described_for_people(feature: str, text: str) -> None:
    assert describe_feature(feature) == text


def test_every_extracted_feature_has_a_description_without_its_prefix() -> None:
    raw = build_raw(
        "SALE!!! 50% off",
        "Click https://shop.example.com now!!! $$$",
        html="<p><a href='https://shop.example.com'>Shop</a></p>",
        headers={"X-Mailer": "Bulk 1.0", "List-Unsubscribe": "<https://x.example/u>"},
        attachment=("offer.pdf", b"%PDF"),
    )
    for feature in _features(raw):
        text = describe_feature(feature)
        assert text
        assert not text.startswith(feature.partition(":")[0] + ":")


def test_feature_config_round_trips_and_refuses_unknown_or_mistyped_settings() -> None:
    config = FeatureConfig(char_max=4, weight_meta=0.5)
    assert FeatureConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown feature settings: shiny"):
        FeatureConfig.from_dict({"shiny": True})
    with pytest.raises(ValueError, match="'char_max' must be int"):
        FeatureConfig.from_dict({"char_max": "5"})
    with pytest.raises(ValueError, match="char_min <= char_max"):
        FeatureConfig.from_dict({"char_min": 6, "char_max": 3})


def test_extraction_is_deterministic() -> None:
    raw = build_raw("Faktura", "Beløb 100 kr. https://bank.example.dk")
    assert _features(raw) == _features(raw)
