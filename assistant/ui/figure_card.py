"""A computed figure as a card (value, formula, the rows it used) and as a bar chart.

Numbers never wrap: every number sits in a `ra-num` span (`white-space: nowrap`), so a phone
shows "1 687 050", not "1 687" over "050".
"""
from __future__ import annotations

import html
import re

from ingest.numbers import format_amount, format_number

from ..links import document_path
from ..schemas import AskResponse, Citation, FigureOut, FigureRow

# a number as Swedish prints it: "1 687 050", "97,4 %", "−4" (a thousands space is not a place to break)
SV_NUMBER = re.compile(r"(?<![\d,])[−-]?\d+(?:[  ]\d{3})*(?:,\d+)?(?![\d])(?:[  ]?(?:%|(?:kr|tkr|mnkr|mkr|mdkr)\b))?")
CHART_LABEL_CHARS = 42
FOOTNOTE = re.compile(r"\s*\(\**\)\s*$")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def num(text: str, escape=esc) -> str:
    """Escaped text whose numbers with thousands spaces do not break across lines."""
    out, pos = [], 0
    for m in SV_NUMBER.finditer(text):
        if not re.search(r"\s", m.group(0)):
            continue  # "2026" cannot break anyway: no span
        out.append(escape(text[pos:m.start()]))
        out.append(f'<span class="ra-num">{escape(m.group(0))}</span>')
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def _column(row: FigureRow) -> str:
    column = FOOTNOTE.sub("", row.column or "")  # "2026 (*)": the footnote mark is not part of the year
    if column and row.year and str(row.year) not in column:
        return f"{column} ({row.year})"
    return column or (str(row.year) if row.year else "–")


def _shared_row(fig: FigureOut) -> str | None:
    rows = {r.row for r in fig.rows}
    return rows.pop() if len(fig.rows) >= 2 and len(rows) == 1 and None not in rows else None


def card_html(fig: FigureOut, citations: dict[int, Citation], index: int) -> str:
    value = format_amount(fig.value, fig.unit)
    out = [f'<section class="ra-figure" aria-labelledby="ra-fig-{index}">',
           f'<h3 class="ra-figure-label" id="ra-fig-{index}">{esc(fig.label)}</h3>',
           f'<p class="ra-figure-value"><span class="ra-num">{esc(value)}</span></p>']
    if fig.formula:
        out.append(f'<p class="ra-formula"><span class="ra-k">Beräkning:</span> {num(fig.formula)} = '
                   f'<span class="ra-num">{esc(value)}</span></p>')
    if fig.rows:
        # one row read across its columns (a sum over years) names the row once, in the caption
        shared = _shared_row(fig)
        caption = f"Rader som används: {esc(shared)}" if shared else "Rader som används"
        head = "" if shared else '<th scope="col">Rad</th>'
        out.append(f'<div class="ra-table-wrap"><table class="ra-rows"><caption>{caption}</caption><thead><tr>{head}'
                   '<th scope="col">Kolumn</th><th scope="col" class="ra-r">Värde</th>'
                   '<th scope="col">Källa</th></tr></thead><tbody>')
        for r in fig.rows:
            c = citations.get(r.citation)
            link = (f'<a href="{esc(document_path(c.source, c.start, c.end))}" target="_blank" '
                    f'aria-label="Källa {r.citation}">[{r.citation}]</a>' if c else f"[{r.citation}]")
            first = (f'<th scope="row">{esc(_column(r))}</th>' if shared else
                     f'<th scope="row">{esc(r.row or r.label)}</th><td>{esc(_column(r))}</td>')
            out.append(f'<tr>{first}<td class="ra-r"><span class="ra-num">{esc(format_amount(r.value, r.unit))}'
                       f"</span></td><td>{link}</td></tr>")
        out.append("</tbody></table></div>")
    elif fig.citations:
        out.append('<p class="ra-k">Källa: ' + " ".join(f"[{i}]" for i in fig.citations) + "</p>")
    out.append("</section>")
    return "".join(out)


def details_html(resp: AskResponse | None) -> str:
    """The side panel for one answer: its figure cards, or a line saying it has none."""
    if resp is None:
        return '<p class="ra-empty">Ställ en fråga: här visas beräkningar, rader och diagram för svaret.</p>'
    if not resp.figures:
        return '<p class="ra-empty">Svaret innehåller inga beräknade siffror. Källorna finns under svaret.</p>'
    cites = {c.id: c for c in resp.citations}
    return "".join(card_html(f, cites, i) for i, f in enumerate(resp.figures, 1))


def chart_series(resp: AskResponse | None) -> tuple[str, list[str], list[float], str | None] | None:
    """What to draw: the rows of the first figure computed from two or more rows, else two or
    more single figures in the same unit side by side. None when a chart would say nothing."""
    if resp is None:
        return None
    for fig in resp.figures:
        if len(fig.rows) >= 2:
            shared = _shared_row(fig)
            labels = [_column(r) if shared else
                      ", ".join(x for x in (r.row or r.label, _column(r) if r.column or r.year else "") if x)
                      for r in fig.rows]
            title = f"{shared} ({fig.label})" if shared and shared not in fig.label else fig.label
            return title, labels, [r.value for r in fig.rows], fig.rows[0].unit or fig.unit
    units = {f.unit for f in resp.figures}
    if len(resp.figures) >= 2 and len(units) == 1:
        return ("Jämförelse", [f.label for f in resp.figures], [f.value for f in resp.figures], units.pop())
    return None


def chart_alt(series: tuple[str, list[str], list[float], str | None]) -> str:
    """The chart in words, for screen readers and anyone who prefers text."""
    title, labels, values, unit = series
    items = "; ".join(f"{label}: {format_amount(v, unit)}" for label, v in zip(labels, values))
    return f"Diagram, {title}: {items}."


def chart(series: tuple[str, list[str], list[float], str | None]):
    """A horizontal bar chart (Plotly, rendered by Gradio's bundled plotly.js: nothing is fetched)."""
    import plotly.graph_objects as go

    title, labels, values, unit = series
    short = [lbl if len(lbl) <= CHART_LABEL_CHARS else lbl[:CHART_LABEL_CHARS - 1] + "…" for lbl in labels]
    texts = [format_amount(v, unit) for v in values]
    # values printed beside their bars (room is left for them), so none is hidden by a short bar
    fig = go.Figure(go.Bar(x=values, y=short, orientation="h", text=texts, textposition="outside",
                           marker_color="#1d4ed8", textfont={"color": "#1f2937"}, customdata=labels,
                           hovertemplate="%{customdata}: %{text}<extra></extra>", cliponaxis=False))
    top = max([abs(v) for v in values] + [1])
    fig.update_layout(
        separators=", ", height=110 + 44 * len(values), margin={"l": 8, "r": 16, "t": 32, "b": 36},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13, "color": "#1f2937"},
        paper_bgcolor="white", plot_bgcolor="white", showlegend=False, bargap=0.3, dragmode=False,
        xaxis={"range": [min(0, min(values) * 1.6), top * 1.6], "tickformat": ",~r", "gridcolor": "#e5e7eb",
               "title": {"text": unit or ""}, "nticks": 4},
        yaxis={"autorange": "reversed", "automargin": True})
    return fig


def figure_markdown(fig: FigureOut) -> list[str]:
    lines = [f"**{fig.label}: {format_amount(fig.value, fig.unit)}**"]
    if fig.formula:
        lines.append(f"Beräkning: {fig.formula} = {format_amount(fig.value, fig.unit)}")
    if fig.rows:
        lines += ["", "| Rad | Kolumn | Värde | Källa |", "|---|---|--:|---|"]
        lines += [f"| {(r.row or r.label).replace('|', '/')} | {_column(r)} | {format_amount(r.value, r.unit)} | "
                  f"[{r.citation}] |" for r in fig.rows]
    return lines


__all__ = ["num", "card_html", "details_html", "chart_series", "chart_alt", "chart", "figure_markdown",
           "format_number"]
