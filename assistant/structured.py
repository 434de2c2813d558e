"""Answers from document structure: decisions (beslut, yrkanden, reservationer, rättelser)
and agendas (ärendenummer ↔ titel), cited at the line they come from."""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import tokens

from .analysis import Query
from .i18n import say

RESERV = re.compile(r"reserv", re.I)
YRK = re.compile(r"yrka|yrkande|förslag(?!et till beslut)|föreslog", re.I)
CORR = re.compile(r"rätta|rättelse|korriger|corrected|correction", re.I)


@dataclass
class Quote:
    source: str
    title: str
    section: str
    text: str
    start: int
    end: int


@dataclass
class StructuredAnswer:
    text: str            # with {q:<n>} placeholders for the quotes
    quotes: list[Quote]


def _find(doc_text: str, needle: str, after: int = 0) -> tuple[int, int] | None:
    """Locate a cleaned line in the original text (markup and spacing may differ)."""
    words = re.findall(r"\w+", needle)[:40]  # enough words to tell near-identical att-satser apart
    if not words:
        return None
    pattern = r"\W+".join(re.escape(w) for w in words)
    m = re.search(pattern, doc_text[after:])
    start = after + m.start() if m else None
    if start is None:
        m = re.search(pattern, doc_text)
        if not m:
            return None
        start = m.start()
    line_end = doc_text.find("\n", start)
    return start, line_end if line_end > 0 else len(doc_text)


def decision_answer(q: Query, docs: list[dict], texts: dict[str, str]) -> StructuredAnswer | None:
    """`§ 76`-questions: who reserved themselves, who proposed what, what was decided, what was corrected."""
    if not q.paragrafer:
        return None
    wanted = {f"§ {p}" for p in q.paragrafer}
    quotes: list[Quote] = []
    lines: list[str] = []

    def cite(doc: dict, text: str) -> str:
        span = _find(texts[doc["source"]], text)
        if not span:
            return ""
        quotes.append(Quote(doc["source"], doc["title"], doc.get("section", ""), texts[doc["source"]][span[0]:span[1]],
                            *span))
        return f" {{q:{len(quotes) - 1}}}"

    for doc in docs:
        st = doc.get("structure") or {}
        pars = [p for p in st.get("paragraphs", []) if p.get("paragraph") in wanted]
        corrections = [c for c in st.get("corrections", []) if c["corrects"] in wanted]
        for par in pars:
            head = f"{par['paragraph']} ({par.get('date') or say(q.lang, 'no_date')}): {par.get('title', '')}".strip()
            if RESERV.search(q.search_text) and par.get("reservationer"):
                names = ", ".join(f"{p['name']} ({p['party']})" for p in par["reservationer"])
                lines.append(say(q.lang, "reserved", head=head, names=names) +
                             cite(doc, _reservation_line(texts[doc["source"]], par["reservationer"][0]["name"])))
            elif re.search(r"proposition|ställde ordförande|voter", q.search_text, re.I) and par.get("propositionsordning"):
                lines.append(say(q.lang, "propositions", head=head))
                lines.extend(p + cite(doc, p) for p in par["propositionsordning"])
            elif YRK.search(q.search_text) and par.get("yrkanden"):
                for y in par["yrkanden"]:
                    who = ", ".join(f"{p['name']} ({p['party']})" if p.get("party") else p["name"] for p in y["who"])
                    lines.append(f"{who}: {y['text']}" + cite(doc, y["text"]))
            elif par.get("beslut") and not CORR.search(q.search_text):
                lines.append(say(q.lang, "decision_in", head=head))
                lines.extend(f"{b}" + cite(doc, b) for b in par["beslut"])
        if corrections or (pars and CORR.search(q.search_text)):
            for memo in st.get("tjansteskrivelser", []):
                if "rättelse" in memo.get("title", "").lower() and any(w in memo["title"] for w in wanted | {
                        w.replace(" ", "") for w in wanted}):
                    lines.append(say(q.lang, "decision_corrected", title=memo["title"],
                                   dnr=memo.get("diarienummer", ""), date=memo.get("date", "")))
                    lines.extend(b + cite(doc, b) for b in memo.get("att_satser", []))
    if not lines:
        return None
    return StructuredAnswer("\n".join(lines), quotes)


def _memo_for(doc: dict, title: str) -> dict | None:
    """The tjänsteskrivelse that belongs to an agenda item (same title words)."""
    words = set(tokens(title))
    for memo in (doc.get("structure") or {}).get("tjansteskrivelser", []):
        if memo.get("diarienummer") and len(words & set(tokens(memo.get("title", "")))) >= max(2, len(words) // 2):
            return memo
    return None


def _reservation_line(text: str, name: str) -> str:
    m = re.search(re.escape(name) + r"[^\n]{0,200}reserverar sig[^\n]*", text)
    return m.group(0) if m else name


def agenda_answer(q: Query, docs: list[dict], texts: dict[str, str], strict: bool = False) -> StructuredAnswer | None:
    """An item by its number, the items whose titles the question names, or a group of the
    agenda ("under rubriken Information"). `strict` (for lookup questions) needs a clear match."""
    qt = set(tokens(q.base_text or q.search_text)) - {"arend", "arendenumm", "nummer", "dagordning", "rubrik",
                                                      "stå", "sta"}
    best: list[tuple[float, dict, dict]] = []
    dated = False
    for doc in docs:
        st = doc.get("structure") or {}
        meeting = st.get("meeting", {})
        on_date = bool(meeting.get("date") and meeting["date"] in q.dates)
        dated = dated or on_date
        # words naming the meeting's body or document ("KSNAU:s möte") select the document, not an item
        item_q = qt - set(tokens(" ".join([doc["title"], meeting.get("body", ""), doc["source"].replace("_", " ")])))
        for item in st.get("agenda", []):
            if item["number"] in q.arenden:
                best.append((100.0, doc, item))
                continue
            group = item.get("group") or ""
            if group and re.search(r"\b" + re.escape(group) + r"\b", q.base_text, re.I):
                best.append((50.0, doc, item))
                continue
            overlap = len(item_q & set(tokens(item["title"])))
            if overlap:
                best.append((overlap + (1.0 if on_date else 0.0), doc, item))
    if not best:
        return None
    best.sort(key=lambda x: -x[0])
    top = best[0][0]
    if strict and top < (2 if dated else 3):  # a question naming the meeting's date needs less
        return None
    quotes: list[Quote] = []
    lines = []
    for score, doc, item in best:
        if score < max(2.0, top * 0.8) and score < 100:
            break
        text = texts[doc["source"]]
        span = _find(text, f"{item['number']} {item['title']}")
        ref = ""
        if span:
            quotes.append(Quote(doc["source"], doc["title"], item.get("group") or "Dagordning",
                                text[span[0]:span[1]], *span))
            ref = f" {{q:{len(quotes) - 1}}}"
        meeting = (doc.get("structure") or {}).get("meeting", {})
        where = say(q.lang, "item_where", body=meeting.get("body", "mötet"), date=meeting.get("date", "")).rstrip()
        page = say(q.lang, "page", page=item["page"]) if item.get("page") else ""
        group = f" ({item['group']})" if item.get("group") else ""
        memo = _memo_for(doc, item["title"])
        dnr = ""
        if memo:
            if memo.get("diarienummer"):
                dnr += say(q.lang, "dnr", dnr=memo["diarienummer"])
            if memo.get("beredningsansvariga"):
                dnr += say(q.lang, "prepared_by", names=", ".join(memo["beredningsansvariga"]))
            if memo.get("att_satser"):
                dnr += say(q.lang, "proposal", text=memo["att_satser"][0])
        lines.append(say(q.lang, "item", number=item["number"], where=where, title=item["title"], group=group,
                       page=page) + f"{ref}{dnr}")
        if len(lines) >= 8:
            break
    return StructuredAnswer("\n".join(lines), quotes)


WHERE_WHEN = re.compile(r"\b(var hålls|var äger|var sker|vilken lokal|plats|lokal|where|när hålls|när äger|"
                        r"när börjar|när startar|vilken tid|klockan|vilket datum|when)\b", re.I)
MEETING = re.compile(r"sammanträd|möte|mötet|meeting|stämma", re.I)


def meeting_answer(q: Query, docs: list[dict], texts: dict[str, str]) -> StructuredAnswer | None:
    """Where and when a meeting in the documents is held."""
    if not (WHERE_WHEN.search(q.search_text) and MEETING.search(q.search_text)):
        return None
    qt = set(tokens(q.search_text))
    scored = []
    for doc in docs:
        meeting = (doc.get("structure") or {}).get("meeting", {})
        if not meeting.get("place") and not meeting.get("date"):
            continue
        score = (3 if meeting.get("date") and meeting["date"] in q.dates else 0)
        score += len(qt & set(tokens(" ".join([doc["title"], meeting.get("body", ""), doc["source"].replace("_", " ")]))))
        scored.append((score, doc, meeting))
    if not scored:
        return None
    score, doc, meeting = max(scored, key=lambda x: x[0])
    if score < 2:
        return None
    quotes = []
    ref = ""
    if meeting.get("place"):
        span = _find(texts[doc["source"]], meeting["place"])
        if span:
            line_start = texts[doc["source"]].rfind("\n", 0, span[0]) + 1
            quotes.append(Quote(doc["source"], doc["title"], "Sammanträde",
                                texts[doc["source"]][line_start:span[1]], line_start, span[1]))
            ref = " {q:0}"
    body = meeting.get("body", "Sammanträdet")
    text = say(q.lang, "meets", body=body, date=meeting.get("date", ""))
    if meeting.get("time"):
        text += say(q.lang, "at_time", time=meeting["time"])
    if meeting.get("place"):
        text += say(q.lang, "place", place=meeting["place"])
    return StructuredAnswer(text.strip() + "." + ref, quotes)


def dnr_answer(q: Query, docs: list[dict], texts: dict[str, str]) -> StructuredAnswer | None:
    """`KS-2025/00667`: every tjänsteskrivelse and paragraph filed under that diarienummer."""
    if not q.diarienummer:
        return None
    wanted = {d.replace(" ", "-").upper() for d in q.diarienummer}
    quotes: list[Quote] = []
    lines = []
    for doc in docs:
        st = doc.get("structure") or {}
        text = texts[doc["source"]]
        found = [(say(q.lang, "memo"), m) for m in st.get("tjansteskrivelser", [])] + \
                [(p["paragraph"], p) for p in st.get("paragraphs", [])]
        seen = set()
        for kind, item in found:
            dnr = (item.get("diarienummer") or "").replace(" ", "-").upper()
            key = (kind, item.get("title"))
            if dnr not in wanted or key in seen or not item.get("title"):
                continue
            seen.add(key)
            span = _find(text, item["title"])
            ref = ""
            if span:
                quotes.append(Quote(doc["source"], doc["title"], kind, text[span[0]:span[1]], *span))
                ref = f" {{q:{len(quotes) - 1}}}"
            lines.append(f"{dnr}: {kind} {item.get('date', '')} – {item['title']}.{ref}")
    return StructuredAnswer("\n".join(lines), quotes) if lines else None


AGREEMENT_FIELD = re.compile(r"kontaktperson|org\.?\s*nr|organisationsnummer|avtalsperiod|giltig|vilken period|"
                             r"vilka parter|contact", re.I)


def agreement_answer(q: Query, docs: list[dict], texts: dict[str, str], parties: list[str]) -> StructuredAnswer | None:
    """Parties, org.nr, contact persons and period of the agreements a question names."""
    if not AGREEMENT_FIELD.search(q.base_text or q.search_text):
        return None
    quotes: list[Quote] = []
    lines = []
    for doc in docs:
        text = texts[doc["source"]]
        for ag in (doc.get("structure") or {}).get("agreements", []):
            names = [p["name"] for p in ag["parties"]]
            if parties and not any(p in names for p in parties):
                continue
            span = _find(text, ag["title"], after=max(0, ag.get("start", 0) - 10))
            ref = ""
            if span:
                quotes.append(Quote(doc["source"], doc["title"], "Parter", text[span[0]:span[1]], *span))
                ref = f" {{q:{len(quotes) - 1}}}"
            who = "; ".join(
                p["name"] + "".join(f", {k}: {p[key]}" for k, key in (("org.nr", "org_nr"), (say(q.lang, "contact"), "contact"))
                                    if p.get(key)) for p in ag["parties"] if not parties or p["name"] in parties
                or re.search(r"vilka parter|parterna", q.base_text, re.I))
            period = say(q.lang, "period", period=ag["period"]) if ag.get("period") else ""
            lines.append(f"{ag['title']}: {who}.{period}{ref}")
    return StructuredAnswer("\n".join(lines[:4]), quotes) if lines else None
