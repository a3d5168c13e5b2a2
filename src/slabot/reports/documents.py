"""The customer statement (`slabot.reports.statement`) as a document to send: HTML or PDF.

Both lay out the same `Section`s, so they say the same thing, with each contract's chart
after its summary (`slabot.reports.chart.statement_chart`: the month's downtime by day, or
its compliance) when matplotlib, the chart extra, is installed; without it the text still
has every figure, and says nothing of a chart. The HTML page is self-contained (its style
inline, no script, the chart a PNG inside the page as a ``data:`` URI, nothing fetched from
anywhere) and prints on A4 as it shows. The PDF is drawn with fpdf2, an optional extra
(``slabot[pdf]``): pure Python, no browser or system library, so the default install stays
lean. It uses the PDF's built-in Helvetica, which has the Latin-1 characters only:
typographic dashes and quotes are written as their plain forms, and a character outside
Latin-1 (a name in another script) as "?". Interpretation: a statement must print anywhere; a
bundled Unicode font would add megabytes to every install for the rare name that needs it.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from .chart import statement_chart
from .statement import Section, Statement

_STYLE = """
body { font: 11pt/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1f24;
       max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #1b1f24; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.sub { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; font-size: 10pt; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de;
         vertical-align: top; }
th { background: #f6f8fa; }
section.summary { background: #f6f8fa; border-left: 4px solid #1b1f24; padding: .1rem 1rem;
                  margin: 1rem 0; }
section.summary p { margin: .35rem 0; }
figure { margin: 1rem 0; }
figure img { display: block; width: 100%; height: auto; }
figcaption { color: #57606a; font-size: 9pt; }
blockquote { margin: .6rem 0; padding: .3rem .8rem; border-left: 3px solid #8c959f;
             color: #424a53; font-style: italic; }
@page { size: A4; margin: 18mm; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; }
               tr, blockquote, figure { break-inside: avoid; } }
"""


def to_html(statement: Statement) -> str:
    """The statement as one HTML page, every text escaped."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(statement.title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(statement.title)}</h1>",
    ]
    for contract in statement.contracts:
        parts.append(f"<h2>{escape(contract.title)}</h2>")
        parts.append(f'<p class="sub">{escape(contract.subtitle)}</p>')
        summary, *rest = contract.sections
        parts.append(_html_section(summary, "summary"))
        chart = statement_chart(contract.figures)
        if chart is not None:
            png, words = chart
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{escape(words)}">'
                f"<figcaption>{escape(words)}</figcaption></figure>"
            )
        parts += (_html_section(s) for s in rest)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_section(section: Section, kind: str = "") -> str:
    opening = f'<section class="{kind}">' if kind else "<section>"
    out = [f"{opening}<h3>{escape(section.title)}</h3>"]
    out += (f"<p>{escape(line)}</p>" for line in section.lines)
    table = section.table
    if table is not None and table.rows:
        out.append("<table><thead><tr>")
        out += (f"<th>{escape(h)}</th>" for h in table.header)
        out.append("</tr></thead><tbody>")
        for row in table.rows:
            out.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
        out.append("</tbody></table>")
    elif table is not None:
        out.append(f"<p>{escape(table.empty)}</p>")
    out += (f"<blockquote>“{escape(q)}”</blockquote>" for q in section.quotes)
    out.append("</section>")
    return "\n".join(out)


class PdfUnavailable(RuntimeError):
    """fpdf2 is not installed: the message says how to install it."""


_PLAIN = str.maketrans({"–": "-", "—": "-", "…": "...", "“": '"', "”": '"', "‘": "'", "’": "'"})


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def to_pdf(statement: Statement) -> bytes:
    """The statement as an A4 PDF: the same sections as the HTML page, tables as ruled rows."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise PdfUnavailable(
            "a PDF needs the pdf extra: pip install 'slabot[pdf]' (or use --format html)"
        ) from None
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(_latin1(statement.title))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    _para(pdf, statement.title, 8)
    for contract in statement.contracts:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 13)
        _para(pdf, contract.title, 7)
        pdf.set_font("helvetica", "", 9)
        pdf.set_text_color(87, 96, 106)
        _para(pdf, contract.subtitle, 4.5)
        pdf.set_text_color(0, 0, 0)
        summary, *rest = contract.sections
        _pdf_section(pdf, summary)
        chart = statement_chart(contract.figures)
        if chart is not None:
            pdf.ln(2)
            pdf.image(io.BytesIO(chart[0]), w=pdf.epw)
        for section in rest:
            _pdf_section(pdf, section)
    return bytes(pdf.output())


def _para(pdf: Any, text: str, height: float) -> None:
    pdf.multi_cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _pdf_section(pdf: Any, section: Section) -> None:
    pdf.ln(2)
    pdf.set_font("helvetica", "B", 11)
    _para(pdf, section.title, 6)
    pdf.set_font("helvetica", "", 10)
    for line in section.lines:
        _para(pdf, line, 5)
    table = section.table
    if table is not None and table.rows:
        _pdf_table(pdf, table.header, table.rows)
    elif table is not None:
        _para(pdf, table.empty, 5)
    pdf.set_font("helvetica", "I", 9)
    for quote in section.quotes:
        pdf.set_x(pdf.l_margin + 4)
        pdf.multi_cell(0, 4.5, _latin1(f'"{quote}"'), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _pdf_table(pdf: Any, header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> None:
    """Rows of wrapped cells: each column as wide as its longest text asks, within the page."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("helvetica", "", 8.5)
    wants = [
        max(pdf.get_string_width(_latin1(r[i])) for r in (header, *rows)) + 3
        for i in range(len(header))
    ]
    scale = min(1.0, width / sum(wants))
    widths = [w * scale for w in wants]
    for n, row in enumerate((header, *rows)):
        pdf.set_font("helvetica", "B" if n == 0 else "", 8.5)
        lines = [
            len(pdf.multi_cell(w, 4.5, _latin1(c), dry_run=True, output="LINES"))
            for w, c in zip(widths, row, strict=True)
        ]
        height = 4.5 * max(lines)
        if pdf.will_page_break(height):
            pdf.add_page()
        top, x = pdf.get_y(), pdf.l_margin
        for w, cell in zip(widths, row, strict=True):
            pdf.set_xy(x, top)
            pdf.multi_cell(w, 4.5, _latin1(cell))
            x += w
        pdf.line(pdf.l_margin, top + height, pdf.l_margin + sum(widths), top + height)
        pdf.set_xy(pdf.l_margin, top + height)
    pdf.ln(1)
