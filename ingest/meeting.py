"""The structure of council documents: meeting, agenda items, tjänsteskrivelser, paragraphs
with their decisions, yrkanden and reservationer, and corrections that point at a decision.

Patterns are the conventions of Swedish council paperwork, not one document's strings:
ärendenummer `189/26`, diarienummer `KS-2026/00467` (spelled Dnr, Diariennr, Diarienumr …),
`§ 76`, att-satser, "reserverar sig", "Rättelse av … beslut YYYY-MM-DD, § N".
"""
from __future__ import annotations

import re

from .model import Section

DATE = r"(\d{4}-\d{2}-\d{2})"
DNR = re.compile(r"\b(?:Dnr|Diarie\w*)\s*[:.]?\s*([A-ZÅÄÖ]{2,6}[- ]?\d{4}[/-]\d{2,5})", re.I)
AGENDA_LINE = re.compile(r"^\s*(\d{1,4}/\d{2})\s+(.+?)(?:\t+\s*(\d+))?\s*$")
NUMBERED_ITEM = re.compile(r"^\s*(\d{1,2})\.\s+(.{3,120}?)\s*$")
PARAGRAPH = re.compile(r"^§\s*(\d{1,4})\b\s*[-–:.]?\s*(.*)$")
ATT = re.compile(r"^\s*(?:(\d{1,2})\.\s*)?(att\s.+)$", re.I)
PERSON = re.compile(r"([A-ZÅÄÖ][\wåäöéü-]+(?: [A-ZÅÄÖ][\wåäöéü-]+)+)\s*\(([-A-ZÅÄÖ]{1,3})\)(?:\s*\(([A-ZÅÄÖ]{1,3})\))?")
CORRECTION = re.compile(r"Rättelse av (.{0,60}?)beslut\w*\s+" + DATE + r",?\s*§\s*(\d+)", re.I)
BODY = re.compile(r"\b(Kommunfullmäktige|Kommunstyrelsen|Kommunstyrelsens [\wåäö -]+?utskott|"
                  r"[A-ZÅÄÖ][\wåäö-]*(?: och [\wåäö-]+)?nämnden|Styrelsen|Förbundsstyrelsen)\b")
GENERIC_TITLE = re.compile(r"^(Beslutsunderlag|För kännedom|Till|Förslag till beslut|Ärendebeskrivning|"
                           r"Beredningsansvariga|Beslutet ska skickas till)$", re.I)
PLACE = re.compile(r"^\s*(?:Plats|Lokal)\s*:\s*(.+?)\s*$", re.M)


def _clean(text: str) -> str:
    text = re.sub(r"</?\w+>|\*\*", "", text)
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text).replace("*", "")  # *emphasis*
    return re.sub(r"\s+", " ", text).strip(" -–")


def _people(text: str) -> list[dict]:
    out = []
    for m in PERSON.finditer(_clean(text)):
        party = m.group(3) or m.group(2)
        out.append({"name": m.group(1), "party": party.strip("-") or None})
    return out


def extract_structure(text: str, sections: list[Section], title: str) -> dict:
    """A JSON-able outline: meeting, agenda, tjänsteskrivelser, paragraphs, corrections."""
    meeting: dict = {}
    head = text[:4000]
    date = re.search(r"(?:Datum|DATUM)\s*:?\s*" + DATE, head) or re.search(r"(?i:sammanträde\w*)\s*:?\s*" + DATE, head) \
        or re.search(DATE, head)
    if date:
        meeting["date"] = date.group(1)
    near_date = head[date.start():date.end() + 120] if date else ""  # the time stands by the meeting's date
    time_ = re.search(r"(?:klockan|kl\.?)\s*(\d{1,2}[.:]\d{2})(?:\s*[-–]\s*(\d{1,2}[.:]\d{2}))?", near_date)
    if time_:
        meeting["time"] = time_.group(1) + (f"–{time_.group(2)}" if time_.group(2) else "")
    place = PLACE.search(head)
    if place:
        meeting["place"] = _clean(place.group(1))
    body = BODY.search(title) or BODY.search(head)
    if body:
        meeting["body"] = body.group(1)

    agenda, group = [], None
    for sec in sections:
        body_text = text[sec.start:sec.end]
        if sec.path and sec.path[0].lower().startswith(("dagordning", "föredragningslista")):
            group = sec.path[-1] if len(sec.path) > 1 else None
            for line in body_text.split("\n"):
                m = AGENDA_LINE.match(line)
                if m and not re.fullmatch(r"[-\s]+", m.group(2)):
                    agenda.append({"number": m.group(1), "title": _clean(m.group(2)), "page": int(m.group(3))
                                   if m.group(3) else None, "group": group})
    if not agenda and re.search(r"kallelse|föredragningslista|dagordning", head, re.I):
        # a kallelse numbers its items: "1. Mötets öppnande"
        for line in text[:6000].split("\n"):
            m = NUMBERED_ITEM.match(line)
            if m and not line.strip().endswith("."):
                agenda.append({"number": m.group(1), "title": _clean(m.group(2)), "page": None, "group": None})

    memos, paragraphs = [], []
    for i, sec in enumerate(sections):
        if not sec.path:
            continue
        if len(sec.path) != 1:
            continue
        name = sec.path[0]
        end = next((s.heading_start for s in sections[i + 1:] if s.path and s.path[0] != name
                    and len(s.path) == 1), len(text))
        block = text[sec.start:end]
        if name.lower().startswith("tjänsteskrivelse"):
            memo = _memo(block)
            if memo.get("title") and not GENERIC_TITLE.match(memo["title"]):
                memos.append(memo)
        elif PARAGRAPH.match(name):
            m = PARAGRAPH.match(name)
            par = _paragraph(m.group(1), block, text[max(0, sec.heading_start - 200):sec.heading_start])
            if m.group(2):
                par["title"] = _clean(m.group(2))  # "§ 12 Budget 2026": the heading names it
            paragraphs.append(par)
    for par in paragraphs:
        if "date" not in par and meeting.get("date"):
            par["date"] = meeting["date"]  # a protocol's paragraphs share the meeting's date
    corrections = []
    for m in CORRECTION.finditer(text):
        if any(c["corrects"] == f"§ {m.group(3)}" and c["date"] == m.group(2) for c in corrections):
            continue  # the agenda and the tjänsteskrivelse name the same correction
        corrections.append({"corrects": f"§ {m.group(3)}", "date": m.group(2), "body": _clean(m.group(1)) or None,
                            "start": m.start(), "end": m.end()})
    return {"title": title, "meeting": meeting, "agenda": agenda, "tjansteskrivelser": memos,
            "paragraphs": paragraphs, "corrections": corrections, "agreements": _agreements(text, sections)}


PERIOD = re.compile(r"(?:avser perioden|för perioden|gäller för perioden)\s+(\d{4}-\d{2}-\d{2}|\d{1,2} \w+ \d{4})\s*(?:–|-|till|t\.o\.m\.)\s*"
                    r"(\d{4}-\d{2}-\d{2}|\d{1,2} \w+ \d{4})")


def _agreements(text: str, sections: list[Section]) -> list[dict]:
    """Agreements inside a document: parties (with org.nr and contact person) and period."""
    out: list[dict] = []
    current: dict | None = None
    for sec in sections:
        title = sec.path[0] if sec.path else ""
        m = re.search(r"mellan\s+(.+?)\s+och\s+(.+?)(?:\s+[–-]\s|$)", title)
        if len(sec.path) == 1 and m and re.match(r"(överenskommelse|avtal|IOP)", title, re.I):
            current = {"title": title, "parties": [{"name": _clean(m.group(1))}, {"name": _clean(m.group(2))}],
                       "start": sec.heading_start}
            out.append(current)
            continue
        if current is None:
            continue
        body = text[sec.start:sec.end]
        if len(sec.path) >= 2 and sec.path[-2].lower() == "parter":
            party = next((p for p in current["parties"] if p["name"].lower()[:8] == sec.path[-1].lower()[:8]), None)
            if party is None:
                party = {"name": sec.path[-1]}
                current["parties"].append(party)
            org = re.search(r"Org\.?\s*nr\.?\s*:?\s*([\d–-]{10,13})", body)
            contact = re.search(r"Kontaktperson\s*:?\s*([^\[\n,]+)", body)
            if org:
                party["org_nr"] = org.group(1).replace("–", "-")
            if contact:
                party["contact"] = _clean(contact.group(1))
        period = PERIOD.search(body)
        if period and "period" not in current:
            current["period"] = f"{period.group(1)} – {period.group(2)}"
    return out


def _memo(block: str) -> dict:
    memo: dict = {}
    d = re.search(DATE, block[:300])
    if d:
        memo["date"] = d.group(1)
    dnr = DNR.search(block)
    if dnr:
        memo["diarienummer"] = dnr.group(1).replace(" ", "-")
    t = re.search(r"^#{2,4}\s+(?!Förslag|Ärende|Beslut|Bered)(.+)$|^\*\*(.{10,200}?)\*\*", block, re.M)
    if t:
        memo["title"] = _clean(t.group(1) or t.group(2))
    memo["att_satser"] = _att_satser(_between(block, r"Förslag till beslut", r"Ärendebeskrivning|Beslutsunderlag"))
    ber = _between(block, r"Beredningsansvarig\w*", r"Beslutet ska skickas|^#|\Z")
    if ber.strip():
        memo["beredningsansvariga"] = [_clean(x) for x in ber.strip().split("\n") if _clean(x).strip("# ")][:4]
    to = _between(block, r"Beslutet ska skickas till", r"Förnamn|^\d+ av \d+|^#|\Z")
    if to.strip():
        memo["skickas_till"] = [_clean(x) for x in to.strip().split("\n") if _clean(x).strip("# ")][:6]
    return memo


def _paragraph(number: str, block: str, before: str) -> dict:
    par: dict = {"paragraph": f"§ {number}"}
    d = re.search(DATE, before) or re.search(DATE, block[:400])
    if d:
        par["date"] = d.group(1)
    dnr = DNR.search(block[:400])
    if dnr:
        par["diarienummer"] = dnr.group(1)
    t = re.search(r"^#{2,4}\s+\**(?!Beslut|Yrkand|Reservation|Ärende|Proposition)(.+?)\**\s*$", block, re.M)
    if t:
        par["title"] = _clean(t.group(1))
    par["beslut"] = _att_satser(_between(block, r"^\s*#*\s*\**Beslut\**\s*$", r"Reservation|Ärendebeskrivning|"
                                                                              r"^\s*#*\s*\**Yrkande"))
    par["yrkanden"] = []
    for part in re.split(r"(?m)^\s*#*\s*\**Yrkanden?\**\s*$", block)[1:]:
        part = re.split(r"(?m)^\s*#*\s*\**(?:Proposition|Reservation|Beslut|Särskilt)", part)[0]
        for line in part.strip().split("\n"):
            m = re.match(r"(.+?\([-A-ZÅÄÖ]{1,3}\)(?:\s*\([A-ZÅÄÖ]{1,3}\))?\**)\s*(?:[–:]|\s-\s)\s*(.+)", _clean(line)) \
                or re.match(r"(.+?)\s[–-]\s(.+)", _clean(line))
            if m:
                who, what = m.group(1), m.group(2)
                par["yrkanden"].append({"who": _people(who) or [{"name": _clean(who), "party": None}],
                                        "text": _clean(what)})
    par["reservationer"] = []
    for m in re.finditer(r"^(.{3,200}?)\s+reserverar sig[^\n]*$", block, re.M):
        for p in _people(m.group(1)):
            if p not in par["reservationer"]:
                par["reservationer"].append(p)
    body = BODY.search(_clean(before))
    if body:
        par["body"] = body.group(1)  # "Umeå kommun / Kommunstyrelsen / Protokollsutdrag" above the §
    par["propositionsordning"] = [
        _clean(x) for part in re.split(r"(?m)^\s*#*\s*\**Propositionsordning[^\n]*$", block)[1:]
        for x in re.split(r"(?m)^\s*#*\s*\**(?:Reservation|Särskilt|Yrkanden|Kommunstyrelsens|[A-ZÅÄÖ][\w ]+beslutsordning)",
                          part)[0].strip().split("\n\n") if _clean(x)]
    uttal = _between(block, r"Särskilt uttalande", r"#+\s*\**\w")
    if uttal.strip():
        par["sarskilt_uttalande"] = _clean(uttal)[:500]
    return par


def _between(block: str, start: str, stop: str) -> str:
    m = re.search(start, block, re.M | re.I)
    if not m:
        return ""
    rest = block[m.end():]
    e = re.search(stop, rest, re.M | re.I)
    return rest[:e.start()] if e else rest


def _att_satser(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        m = ATT.match(_clean(line))
        if m:
            out.append(_clean(line))
    return out
