"""A review exported: as Markdown (a template over the same read model the page shows) and as
PDF, typeset with ReportLab from that Markdown — parsed with markdown-it — so the two exports
cannot disagree about what a review says.

The PDF uses the Bitstream Vera fonts ReportLab ships, which cover the Latin scripts; a
character they lack prints as a box rather than failing the export.
"""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    ListFlowable,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from vulnops.review.measures import describe
from vulnops.review.schemas import ReviewOut
from vulnops.ui.text import render_text

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown(review: ReviewOut) -> str:
    return render_text("review/review.md", {"review": review, "hours": describe})


@cache
def _styles() -> dict[str, ParagraphStyle]:
    for name, file in (
        ("Vera", "Vera.ttf"),
        ("Vera-Bold", "VeraBd.ttf"),
        ("Vera-Italic", "VeraIt.ttf"),
        ("Vera-BoldItalic", "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, file))
    pdfmetrics.registerFontFamily(
        "Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontName="Vera", fontSize=9.5)
    return {
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "h1": ParagraphStyle("h1", parent=sheet["Heading1"], fontName="Vera-Bold", fontSize=16),
        "h2": ParagraphStyle("h2", parent=sheet["Heading2"], fontName="Vera-Bold", fontSize=13),
        "h3": ParagraphStyle("h3", parent=sheet["Heading3"], fontName="Vera-Bold", fontSize=11),
        "code": ParagraphStyle("code", parent=body, fontName="Courier", fontSize=8),
    }


def _inline(token: Token) -> str:
    """An inline token's children as ReportLab's paragraph markup (every text escaped)."""
    out = []
    for child in token.children or []:
        if child.type in ("text", "html_inline"):
            out.append(escape(child.content))
        elif child.type == "code_inline":
            out.append(f'<font name="Courier">{escape(child.content)}</font>')
        elif child.type in ("softbreak", "hardbreak"):
            out.append("<br/>")
        elif child.type == "strong_open":
            out.append("<b>")
        elif child.type == "strong_close":
            out.append("</b>")
        elif child.type == "em_open":
            out.append("<i>")
        elif child.type == "em_close":
            out.append("</i>")
        elif child.type == "link_close":
            out.append(f" ({escape(str(child.meta.get('href', '')))})" if child.meta else "")
        elif child.type == "image":
            out.append(escape(child.content))
    return "".join(out)


def _links(tokens: list[Token]) -> None:
    """Keep each link's address for its closing token (the PDF prints it after the text)."""
    for token in tokens:
        opened: list[str] = []
        for child in token.children or []:
            if child.type == "link_open":
                opened.append(str(child.attrs.get("href", "")))
            elif child.type == "link_close" and opened:
                child.meta = {"href": opened.pop()}


def _table(tokens: list[Token], start: int, styles: dict[str, ParagraphStyle]) -> tuple[Table, int]:
    rows: list[list[Paragraph]] = []
    i = start + 1
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(Paragraph(_inline(tokens[i]), styles["cell"]))
        i += 1
    table = Table(rows, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table, i


def _flowables(text: str) -> list[Flowable]:
    styles = _styles()
    tokens = _PARSER.parse(text)
    _links(tokens)
    story: list[Flowable] = []
    items: list[Flowable] | None = None
    heading: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            heading = token.tag
        elif token.type == "inline" and heading:
            story.append(Paragraph(_inline(token), styles[heading if heading in styles else "h3"]))
            heading = None
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            items = []
        elif token.type in ("bullet_list_close", "ordered_list_close") and items is not None:
            story.append(ListFlowable(items, bulletType="bullet", leftIndent=12))
            items = None
        elif token.type == "inline" and items is not None:
            items.append(Paragraph(_inline(token), styles["body"]))
        elif token.type == "inline":
            story.append(Paragraph(_inline(token), styles["body"]))
        elif token.type in ("fence", "code_block"):
            story.append(Preformatted(token.content, styles["code"]))
        elif token.type == "table_open":
            table, i = _table(tokens, i, styles)
            story += [table, Spacer(1, 3 * mm)]
        i += 1
    return story


def pdf(review: ReviewOut) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Post-incident review {review.tracking_id}",
        author="vulnops",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(_flowables(markdown(review)))
    return buffer.getvalue()
