"""The assistant's own words in Swedish and English.

Quotes, row labels and party names stay as the documents print them (they are cited
verbatim); only the sentences the assistant writes around them follow the question's language.
"""
from __future__ import annotations

from ingest.model import Discrepancy
from ingest.numbers import format_number

MESSAGES: dict[str, tuple[str, str]] = {
    "abstain": ("Det finns inget i de inlästa dokumenten som besvarar frågan.",
                "The ingested documents do not answer this question."),
    "abstain_partial": ("De dokument som rör frågan nämner inte {missing}, så den kan inte besvaras utifrån dem.",
                        "The documents that concern the question do not mention {missing}, so they cannot "
                        "answer it."),
    "no_documents": ("Inga dokument är inlästa ännu.", "No documents have been ingested yet."),
    "no_figure": ("Dokumenten anger inget belopp som besvarar frågan.",
                  "The documents state no figure that answers the question."),
    "related": (" Närliggande underlag: ", " Related passages: "),
    "evidence": ("Underlag", "Evidence"),
    "difference": ("Skillnaden är {value} ({formula} = {value})", "The difference is {value} ({formula} = {value})"),
    "sum_of": ("Summan är {value} ({formula} = {value})", "The sum is {value} ({formula} = {value})"),
    "vote_total": ("I omröstningen deltog sammanlagt {value} ({formula} = {value})",
                   "In total {value} took part in the vote ({formula} = {value})"),
    "vote_share": ("Andelen {side}-röster är {value} % ({formula} = {value} %)",
                   "The share of {side} votes is {value}% ({formula} = {value}%)"),
    "cost_as_printed": ("{label}: {value} {ref} (tabellen redovisar kostnaden med minustecken: {printed}).",
                        "{label}: {value} {ref} (the table prints the cost with a minus sign: {printed})."),
    "roll_call": ("Voteringslistan räknad: {ja} ja, {nej} nej, {avstar} avstår ({n} namn)",
                  "The roll call counted: {ja} yes, {nej} no, {avstar} abstaining ({n} names)"),
    "member_vote": ("{member} röstade {choice}", "{member} voted {choice}"),
    "members_voting": ("{choice} ({n}): {members}", "{choice} ({n}): {members}"),
    "voted_ja": ("Röstade ja", "Voted yes"),
    "voted_nej": ("Röstade nej", "Voted no"),
    "voted_avstår": ("Avstod", "Abstained"),
    "hour": ("timme", "hour"),
    "hours": ("timmar", "hours"),
    "minute": ("minut", "minute"),
    "minutes": ("minuter", "minutes"),
    "note": ("Obs!", "Note:"),
    "corrected": ("Det ursprungliga beslutet angav ”{quote}” [{ref}]; det rättades genom ”{by}”, och svaret ovan "
                  "följer rättelsen och avtalets budget.",
                  "The original decision stated ”{quote}” [{ref}]; it was corrected by ”{by}”, and the answer "
                  "above follows the correction and the agreement's budget."),
    "values_agree": ("Ja, uppgifterna stämmer: båda anger {value} [{a}][{b}].",
                     "Yes, they agree: both state {value} [{a}][{b}]."),
    "values_differ": ("Nej, uppgifterna skiljer sig: {first} [{a}] mot {second} [{b}], en skillnad på {diff} "
                      "({formula} = {diff}).",
                      "No, they differ: {first} [{a}] against {second} [{b}], a difference of {diff} "
                      "({formula} = {diff})."),
    "consistency_no": ("Nej. {explanation} Beräknat: {formula}.", "No. {explanation} Computed: {formula}."),
    "decision_in": ("Beslut i {head}:", "Decision in {head}:"),
    "reserved": ("Mot beslutet i {head} reserverade sig {names}.",
                 "Against the decision in {head}, {names} entered a reservation."),
    "propositions": ("Propositionsordning i {head}:", "Order of propositions in {head}:"),
    "decision_corrected": ("Beslutet rättades: {title} ({dnr}, {date}).",
                           "The decision was corrected: {title} ({dnr}, {date})."),
    "no_date": ("datum saknas", "date missing"),
    "item": ("Ärende {number}{where}: {title}{group}{page}.", "Item {number}{where}: {title}{group}{page}."),
    "item_where": (" på {body} {date}", " at {body} {date}"),
    "page": (", s. {page}", ", p. {page}"),
    "dnr": (" Diarienummer {dnr}.", " Case number (diarienummer) {dnr}."),
    "prepared_by": (" Beredningsansvarig: {names}.", " Prepared by: {names}."),
    "proposal": (" Förslag till beslut: {text}", " Proposed decision: {text}"),
    "meets": ("{body} sammanträder {date}", "{body} meets {date}"),
    "at_time": (" klockan {time}", " at {time}"),
    "place": (", plats: {place}", ", place: {place}"),
    "period": (" Period: {period}.", " Period: {period}."),
    "contact": ("kontaktperson", "contact person"),
    "memo": ("Tjänsteskrivelse", "Memo (tjänsteskrivelse)"),
    "growth": ("{what} ändras med {pct} % ({formula} = {pct} %) {cites}.",
               "{what} changes by {pct} % ({formula} = {pct} %) {cites}."),
    "from_document": ("Ur {title}:", "From {title}:"),
    "from_to": ("Från {frm} till {to}: en förändring med {change} ({formula} = {change}) {cites}.",
                "From {frm} to {to}: a change of {change} ({formula} = {change}) {cites}."),
    "across_documents_change": ("Dokumenten anger {listing}. Förändring: {formula} = {change}.",
                                "The documents state {listing}. Change: {formula} = {change}."),
    "across_documents": ("Dokumenten anger, per år: {listing}.", "The documents state, by year: {listing}."),
}


def say(lang: str, key: str, **values: object) -> str:
    sv, en = MESSAGES[key]
    return (en if lang == "en" else sv).format(**values)


def explain(d: Discrepancy, lang: str) -> str:
    """Why a row fails its check, in the question's language (the stored text is Swedish)."""
    if lang != "en":
        return d.explanation
    return (f"The figures in row {d.row} do not add up: {d.formula} = {format_number(d.computed)}, "
            f"but the document states {format_number(d.printed)}.")
