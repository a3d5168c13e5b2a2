"""The customer statement (issue 13): the month's figures a customer is owed, as HTML and PDF.

Seed 001 (LeadPro): "If LeadPro does not meet the uptime commitment of 99.9%, the Client will
be eligible to receive a Service Credit", 10 % below 99.9 % and 30 % below 99.0 %; "All claims
must be made within 60 days of the unavailability occurring"; "LeadPro is not responsible for
any downtime caused by general downtime to the host servers (AWS)".

November 2026 in London (GMT all month) has 43,200 minutes. Acme Ltd's month:

* SLA-1, High, Mon 2 Nov 10:00–13:00: 180 minutes down; acknowledged 12:30, 30 minutes after
  "High Severity: Response time 2 hours" ran out (a breach).
* An outage recorded without a ticket, Fri 6 Nov 09:00–09:40 ("database failover"): the
  platform's, so every customer's: 40 minutes.
* An AWS outage, Thu 5 Nov 10:00–11:00: left out of uptime and credits.

Down 220 minutes: (43,200 − 220) / 43,200 = 99.491 %, below 99.9 % and not below 99.0 %: a
10 % credit. Claims: the 2 Nov spell until 1 Jan 2027, the 6 Nov one until 5 Jan 2027.
Globex's High ticket (SLA-2, 3 Nov, 10 h) is Globex's, and appears nowhere in Acme's statement.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from support.conversation import sqlite_only
from support.roles import recorders

from slabot.cli import main
from slabot.outages import Outages
from slabot.reports import chart
from slabot.reports.chart import downtime_per_day, statement_chart
from slabot.reports.documents import to_html
from slabot.reports.monthly import monthly
from slabot.reports.statement import statement
from slabot.sla.figures import Interruption, Period, uptime
from slabot.tickets import ChangeRequest

ROOT = Path(__file__).resolve().parent.parent
H, M = timedelta(hours=1), timedelta(minutes=1)
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def month(store, tickets, policy_book, monkeypatch):
    ws = "T1"
    tickets.open(
        ws,
        title="platform down",
        severity="high",
        policy="leadpro",
        reporter="U1",
        customer="Acme Ltd",
        now=at(2, 10),
    )
    tickets.acknowledge(ChangeRequest(ws, 1, actor="U2", now=at(2, 12, 30)))
    tickets.resolve(ChangeRequest(ws, 1, actor="U2", now=at(2, 13)))
    tickets.open(
        ws, title="logins fail", severity="high", policy="leadpro", reporter="U1",
        customer="Globex", now=at(3, 10),
    )  # fmt: skip
    tickets.acknowledge(ChangeRequest(ws, 2, actor="U2", now=at(3, 10, 30)))
    tickets.resolve(ChangeRequest(ws, 2, actor="U2", now=at(3, 20)))
    outages = Outages(store, policy_book, roles=recorders(store))
    outages.start(ws, "leadpro", channel=None, actor="U1", now=at(5, 10), cause="aws")
    outages.end(ws, "leadpro", actor="U1", now=at(5, 11))
    outages.start(ws, "leadpro", channel=None, actor="U1", now=at(6, 9), note="database failover")
    outages.end(ws, "leadpro", actor="U1", now=at(6, 9, 40))
    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SLABOT_POLICIES", str(ROOT / "policies"))
    return store


class _Text(HTMLParser):
    """What a reader of the page sees: its text, without markup or style."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        self._skip = tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip = False

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def seen(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return "\n".join(reader.parts)


def words(text: str) -> str:
    return " ".join(text.split())


EXPECTED = [
    "Service statement for Acme Ltd, November 2026",
    "Uptime: 99.491 % against a target of 99.9 %: missed (220 of 43,200 minutes down).",
    "Service credit owed: 10 % of the month's charges.",
    "Last day to claim it for every spell of downtime: Fri 01 Jan 2027.",
    "Mon 02 Nov 2026 10:00",  # SLA-1's spell …
    "Fri 01 Jan 2027",  # … and its own last day to claim
    "Fri 06 Nov 2026 09:00",
    "database failover",
    "Tue 05 Jan 2027",
    "General downtime of the host servers (AWS)",  # left out, and why
    "High Severity: Response time 2 hours (all hours).",  # the breached target's clause
    # the credit band's clause, quoted, and how to claim
    "For monthly uptime Percentage less than 99.9% but equal to or greater than 99.0%, the "
    "Client will be eligible for a Service Credit of 10% of the charges attributable to the "
    "affected Purchase Order.",
    "All claims must be made within 60 days of the unavailability occurring.",
]


def test_the_statement_says_what_the_customer_is_owed_and_no_other_customers_tickets(
    month, policy_book
):
    [report] = monthly(
        month, policy_book, ["T1"], "2026-11", policy="leadpro", now=NOW, customer="Acme Ltd"
    )
    found = statement([report], "Acme Ltd", NOW)
    text = words(seen(to_html(found)))
    for expected in EXPECTED:
        assert words(expected) in text, expected
    assert "SLA-1" in text and "SLA-2" not in text  # Globex's ticket is not Acme's
    [contract] = found.contracts
    downtime = next(s for s in contract.sections if s.title == "Downtime")
    assert downtime.table is not None
    assert [row[3] for row in downtime.table.rows] == ["SLA-1", "database failover"]
    breaches = next(s for s in contract.sections if s.title == "Breaches")
    assert breaches.table is not None
    assert breaches.table.rows == (
        (
            "SLA-1",
            "High",
            "first response",
            "Mon 02 Nov 2026 12:00",
            "Mon 02 Nov 2026 12:30",
            "30m",
        ),
    )


def test_the_html_page_is_self_contained_and_escapes_what_people_typed(month, capsys):
    assert main(["report", "--statement", "--customer", "acme ltd", "--month", "2026-11",
                 "--now", NOW.isoformat()]) == 0  # fmt: skip
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page
    assert "href=" not in page and "<script" not in page
    # The chart is inside the page: nothing is fetched from anywhere.
    assert page.count("src=") == page.count('src="data:image/png;base64,') == 1
    assert "Uptime: 99.491 %" in page


def test_the_chart_shows_each_days_downtime_counted_and_left_out(month, policy_book):
    [report] = monthly(
        month, policy_book, ["T1"], "2026-11", policy="leadpro", now=NOW, customer="Acme Ltd"
    )
    assert report.uptime is not None
    counted, left_out = downtime_per_day(report.uptime, report.policy.tz)
    assert len(counted) == len(left_out) == 30
    assert {day + 1: m for day, m in enumerate(counted) if m} == {2: 180, 6: 40}
    assert {day + 1: m for day, m in enumerate(left_out) if m} == {5: 60}  # AWS
    png, words = statement_chart(report) or (b"", "")
    assert png.startswith(b"\x89PNG")
    assert words == (
        "Minutes down on each day of November 2026: 220 counted against the uptime on 2 day(s), "
        "60 left out."
    )


def test_without_the_chart_extra_the_statement_is_whole_and_says_nothing_is_missing(
    month, capsys, monkeypatch
):
    monkeypatch.setattr(chart, "available", lambda: False)
    assert main(["report", "--statement", "--customer", "Acme Ltd", "--month", "2026-11",
                 "--now", NOW.isoformat()]) == 0  # fmt: skip
    page = capsys.readouterr().out
    text = words(seen(page))
    for expected in EXPECTED:
        assert words(expected) in text, expected
    assert "<img" not in page and "<figure" not in page and "chart" not in text.lower()


@sqlite_only
def test_a_browser_shows_the_customer_their_month_and_the_chart(month, tmp_path):
    """Chromium, headless, renders the statement as sent; a script added to a copy of it
    writes down what the page shows (its text as laid out, the chart as decoded)."""
    browser = shutil.which("chromium")
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must render the statement: apt-get install chromium")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    sent = tmp_path / "acme.html"
    argv = ["report", "--statement", "--customer", "Acme Ltd", "--month", "2026-11"]
    assert main([*argv, "--output", str(sent), "--now", NOW.isoformat()]) == 0
    page = tmp_path / "read.html"
    page.write_text(sent.read_text().replace("</body>", f"{READER}</body>"))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = re.search(r'<pre id="reader">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found is not None, done.stdout[-2000:]
    reader = json.loads(html.unescape(found.group(1)))
    text = reader["text"]
    for expected in EXPECTED:
        assert words(expected) in words(text), expected
    rows = text.splitlines()
    # Each spell of downtime on one row with its own last day to claim.
    assert any("Mon 02 Nov 2026 10:00" in r and "Fri 01 Jan 2027" in r for r in rows)
    assert any("Fri 06 Nov 2026 09:00" in r and "Tue 05 Jan 2027" in r for r in rows)
    assert "SLA-2" not in text
    [image] = reader["images"]
    assert image["complete"] and image["width"] == 1100 and image["height"] == 360
    assert image["shown"] > 300  # laid out across the page, not collapsed
    assert image["red"] > 2000, image  # decoded whole: the bars of 2 and 6 Nov are there
    assert image["alt"].startswith("Minutes down on each day of November 2026: 220 counted")


# Added to a copy of the page only: the statement itself carries no script.
READER = """<script>
function redPixels(image) {  // the chart's bars of counted downtime (#c62828), drawn
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const paint = canvas.getContext("2d");
  paint.drawImage(image, 0, 0);
  const { data } = paint.getImageData(0, 0, canvas.width, canvas.height);
  let red = 0;
  for (let n = 0; n < data.length; n += 4) {
    if (data[n] > 170 && data[n + 1] < 80 && data[n + 2] < 80) red += 1;
  }
  return red;
}
window.addEventListener("load", () => {
  const seen = {
    text: document.body.innerText,
    images: [...document.images].map((i) => ({
      complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
      shown: i.getBoundingClientRect().width, alt: i.alt, red: redPixels(i),
    })),
  };
  const out = document.createElement("pre");
  out.id = "reader";
  out.textContent = JSON.stringify(seen);
  document.body.append(out);
});
</script>"""


def test_the_pdf_reads_back_with_the_same_figures(month, tmp_path):
    out = tmp_path / "acme.pdf"
    argv = ["report", "--statement", "--customer", "Acme Ltd", "--month", "2026-11"]
    assert main([*argv, "--format", "pdf", "--output", str(out), "--now", NOW.isoformat()]) == 0
    body = out.read_bytes()
    assert body.startswith(b"%PDF-")
    pages = PdfReader(io.BytesIO(body)).pages
    [chart_image] = pages[0].images  # the month's downtime by day, after the summary
    assert chart_image.image is not None and chart_image.image.size == (1100, 360)
    text = words(" ".join(page.extract_text() for page in pages))
    # Built-in PDF fonts have Latin-1 only: "–" and curly quotes are written plainly.
    for expected in EXPECTED:
        assert words(expected) in text, expected
    assert "SLA-2" not in text
    # Only LeadPro: no other policy names Acme Ltd or had a ticket of theirs this month.
    assert "LiveOps" not in text and "LeadSquared" not in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--statement"], "name them with --customer"),
        (["--statement", "--customer", "Acme Ltd", "--format", "csv"], "html or pdf"),
        (["--format", "pdf"], "--format pdf is for --statement"),
        (["--statement", "--customer", "Initech"], "Initech opened no ticket this month"),
    ],
)
def test_a_statement_asked_for_wrongly_says_how(month, capsys, argv, message):
    assert main(["report", "--month", "2026-11", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_day_the_clocks_go_forward_is_23_hours_long_on_the_chart(policies):
    """London moves to BST at 01:00 on Sun 29 Mar 2026: an outage from 28 Mar 12:00 to 30 Mar
    12:00 UTC (48 h) is down 12 h on the 28th, 23 h on the 29th and 13 h on the 30th."""
    leadpro = policies["leadpro"]
    march = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, 23, tzinfo=UTC), "")
    outage = Interruption(
        datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 12, tzinfo=UTC)
    )
    counted, _ = downtime_per_day(uptime(leadpro, [outage], march), leadpro.tz)
    assert len(counted) == 31
    assert {day + 1: m for day, m in enumerate(counted) if m} == {28: 720, 29: 1380, 30: 780}


def test_a_contract_without_uptime_terms_shows_its_compliance_chart(store, tickets, policy_book):
    tickets.open(
        "T1", title="calls drop", severity="p2", policy="liveops", reporter="U1",
        customer="Acme Ltd", now=at(2, 10),
    )  # fmt: skip
    [report] = monthly(
        store, policy_book, ["T1"], "2026-11", policy="liveops", now=NOW, customer="Acme Ltd"
    )
    assert report.uptime is None
    png, words = statement_chart(report) or (b"", "")
    assert png.startswith(b"\x89PNG")
    assert words == "Targets met by severity, and deadlines breached on each day of November 2026."
    found = statement([report], "Acme Ltd", NOW)
    [contract] = found.contracts
    assert words in to_html(found)
    assert "This contract sets no uptime terms." in contract.sections[0].lines
