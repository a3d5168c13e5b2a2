"""E-mail as a ticket source reads it (`slabot.inbound.mail`) and where it goes (`mailroutes`):
pure, no server. The end-to-end tests over a real IMAP server are in ``test_mail.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mailmaker import message

from slabot.inbound.mail import html_text, read_mail, reported_at
from slabot.inbound.mailroutes import RoutesError, RoutesFile, load_routes

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_a_plain_message_gives_sender_subject_text_date_and_its_message_id():
    mail = read_mail(message("Checkout is down", date=NOW - timedelta(minutes=5)))
    assert mail.sender == "jane@acme.example" and mail.sender_name == "Jane Doe"
    assert mail.domain == "acme.example"
    assert mail.subject == "Checkout is down"
    assert mail.text == "Hello,\n\nsomething is wrong."
    assert mail.written_at == NOW - timedelta(minutes=5)
    assert mail.ref == "<m1@acme.example>"
    assert mail.automatic is None and mail.answers == () and mail.tickets == ()


def test_an_html_only_message_is_read_as_its_text_without_markup_or_scripts():
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>Orders &amp; payments "
        "fail</p><ul><li>since 09:00</li><li>for EU users</li></ul><script>alert(1)</script>"
        "</body></html>"
    )
    mail = read_mail(message("Orders failing", None, html=html))
    assert mail.text == "Orders & payments fail\n\n• since 09:00\n\n• for EU users"
    assert "<" not in mail.text and "color" not in mail.text and "alert" not in mail.text


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("iso-8859-1", "Grüße aus Köln: die Kasse ist ausgefallen"),
        ("shift_jis", "決済が停止しています"),
    ],
)
def test_a_body_in_a_non_utf8_charset_is_decoded(charset, text):
    raw = message(text[:10], text, charset=charset)
    assert f"charset={charset}".encode() in raw.lower() or charset.encode() in raw.lower()
    assert read_mail(raw).text == text


def test_an_encoded_subject_and_an_unknown_charset_still_read():
    raw = message("Zahlung fehlgeschlagen – dringend", "x").replace(b"utf-8", b"x-unknown-cs")
    mail = read_mail(raw)
    assert mail.subject == "Zahlung fehlgeschlagen – dringend"
    assert mail.text  # read with replacement marks rather than dropped


def test_attachments_are_named_not_read():
    mail = read_mail(message("Logs", attachments=(("trace.log", b"\x00\x01binary"),)))
    assert mail.attachments == ("trace.log",)
    assert "binary" not in mail.text


@pytest.mark.parametrize(
    ("headers", "sender", "why"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Jane <jane@acme.example>", "Auto-Submitted"),
        ({"Precedence": "bulk"}, "Jane <jane@acme.example>", "Precedence"),
        ({"Precedence": "auto_reply"}, "Jane <jane@acme.example>", "Precedence"),
        ({"X-Autoreply": "yes"}, "Jane <jane@acme.example>", "X-Autoreply"),
        ({}, "Mail Delivery System <MAILER-DAEMON@mx.acme.example>", "mailer-daemon"),
    ],
)
def test_auto_replies_and_bounces_are_recognised(headers, sender, why):
    mail = read_mail(message("Out of office", sender=sender, headers=headers))
    assert mail.automatic is not None and why.lower() in mail.automatic.lower()


def test_auto_submitted_no_is_a_person():
    assert read_mail(message("Hi", headers={"Auto-Submitted": "no"})).automatic is None


def test_a_reply_names_the_messages_it_answers_newest_first_and_the_tickets_in_its_subject():
    raw = message(
        "Re: [SLA-12] Checkout is down",
        message_id="<m3@acme.example>",
        headers={
            "In-Reply-To": "<m2@vendor.example>",
            "References": "<m1@acme.example> <m2@vendor.example>",
        },
    )
    mail = read_mail(raw)
    assert mail.answers == ("<m2@vendor.example>", "<m1@acme.example>")
    assert mail.tickets == (12,)


def test_a_message_without_message_id_gets_a_stable_digest_and_a_long_one_is_shortened():
    raw = message("No id", message_id=None)
    assert read_mail(raw).ref == read_mail(raw).ref
    assert read_mail(raw).ref.startswith("sha256:")
    long_id = "<" + "x" * 400 + "@acme.example>"
    ref = read_mail(message("Long id", message_id=long_id)).ref
    assert ref.startswith("sha256:") and len(ref) <= 255


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (NOW - timedelta(hours=3), NOW - timedelta(hours=3)),  # believed
        (NOW + timedelta(minutes=10), NOW),  # the sender's clock is ahead: not in the future
        (datetime(1970, 1, 1, tzinfo=UTC), NOW),  # a dead clock: not breached at birth
        (NOW - timedelta(days=30), NOW),  # older than the bound
        (None, NOW),  # no Date at all
    ],
)
def test_reported_at_is_the_date_only_within_bounds(written, expected):
    mail = read_mail(message("x", date=written))
    assert reported_at(mail, NOW, timedelta(days=7)) == expected


def test_a_garbled_date_is_no_date():
    raw = message("x").replace(b"Subject:", b"Date: the day after tomorrow\nSubject:")
    assert read_mail(raw).written_at is None


def test_html_text_keeps_entities_and_line_breaks():
    assert html_text("a&lt;b<br>c&nbsp;d") == "a<b\nc d"  # a non-breaking space reads as one


ROUTES = """\
workspace: T0001
channel: C0SUPPORT
severity: p3
senders:
  Acme.example: {customer: Acme, policy: leadpro, channel: C0ACME}
  cto@globex.example: {customer: Globex CTO, policy: liveops, severity: p2}
  globex.example: {customer: Globex, policy: liveops}
"""


def test_routes_match_the_address_then_the_domain_then_a_parent_domain(tmp_path: Path):
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    routes = load_routes(path)
    acme = routes.route("ops@eu.acme.example")
    assert acme is not None and (acme.customer, acme.channel) == ("Acme", "C0ACME")
    cto = routes.route("CTO@globex.example")
    assert cto is not None and (cto.customer, cto.severity, cto.channel) == (
        "Globex CTO",
        "p2",
        "C0SUPPORT",
    )
    other = routes.route("dev@globex.example")
    assert other is not None and (other.customer, other.severity) == ("Globex", "p3")
    assert routes.route("someone@unknown.example") is None


def test_a_catch_all_route_takes_everyone_else(tmp_path: Path):
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES + '  "*": {customer: Unknown sender, policy: leadpro}\n')
    found = load_routes(path).route("someone@unknown.example")
    assert found is not None and found.customer == "Unknown sender"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("workspace: T0001\nsenders:\n  a.example: {customer: A}\n", "no channel for a.example"),
        ("channel: C0X1\nsenders:\n  a.example: {customer: A}\n", "workspace"),
        ("workspace: T0001\nchannel: C01\nsenders: {}\n", "senders"),
        ("workspace: T0001\nchannel: C0X1\nsenders:\n  a.example: {custmer: A}\n", "custmer"),
        ("workspace: [\n", "not YAML"),
        ("- a\n", "expected workspace"),
    ],
)
def test_a_routes_file_that_cannot_be_used_says_what_to_fix(tmp_path: Path, text, says):
    path = tmp_path / "routes.yaml"
    path.write_text(text)
    with pytest.raises(RoutesError, match=says) as caught:
        load_routes(path)
    assert str(path) in str(caught.value)


def test_a_missing_routes_file_names_the_setting(tmp_path: Path):
    with pytest.raises(RoutesError, match="MAIL_ROUTES"):
        load_routes(tmp_path / "nope.yaml")


def test_routes_are_read_again_when_the_file_changes_and_a_broken_edit_keeps_the_last(
    tmp_path: Path,
):
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    routes = RoutesFile(path)
    assert routes().route("x@new.example") is None
    path.write_text(ROUTES + "  new.example: {customer: New, policy: leadpro}\n")
    assert routes().route("x@new.example") is not None
    path.write_text("workspace: [\n")
    assert routes().route("x@new.example") is not None
