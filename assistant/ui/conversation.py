"""Conversations as plain JSON, kept in the user's browser (localStorage) and bounded.

A store holds a few chats; a chat holds turns; a turn is a question with the answer it got
(the `AskResponse` as JSON, or a Swedish error). Everything here is pure: the Gradio app reads
the store from the browser, passes it through these functions and writes it back.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from ..schemas import AskResponse, ChatMessage

MAX_CHATS = 15
MAX_TURNS = 30            # per chat: older turns are dropped from the browser
MAX_STORE_CHARS = 1_200_000  # localStorage holds ~5 MB per site; the store is re-sent after each answer
HISTORY_TURNS = 8          # turns sent to the assistant as context
MESSAGE_CHARS = 3_900      # ChatMessage allows 4 000; longer answers are cut, never rejected
QUESTION_CHARS = 2_000     # AskRequest's limit, said in Swedish before asking

Store = dict[str, Any]
Turn = dict[str, Any]


def empty_store() -> Store:
    chat = _new_chat()
    return {"version": 1, "current": chat["id"], "chats": [chat]}


def _new_chat() -> dict:
    return {"id": uuid.uuid4().hex[:12], "title": "", "updated": _now(), "turns": []}


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


def normalise(store: Any) -> Store:
    """Whatever the browser sent (nothing, an old or a tampered value) as a valid, bounded store."""
    if not isinstance(store, dict) or not isinstance(store.get("chats"), list):
        return empty_store()
    chats = []
    for chat in store["chats"][:MAX_CHATS]:
        if not isinstance(chat, dict) or not isinstance(chat.get("turns"), list):
            continue
        turns = [t for t in chat["turns"] if isinstance(t, dict) and isinstance(t.get("question"), str)]
        chats.append({"id": str(chat.get("id") or uuid.uuid4().hex[:12])[:24],
                      "title": str(chat.get("title", ""))[:120], "updated": str(chat.get("updated", ""))[:20],
                      "turns": turns[-MAX_TURNS:]})
    if not chats:
        return empty_store()
    ids = [c["id"] for c in chats]
    current = store.get("current") if store.get("current") in ids else ids[0]
    return bound({"version": 1, "current": current, "chats": chats})


def current_chat(store: Store) -> dict:
    return next(c for c in store["chats"] if c["id"] == store["current"])


def turns(store: Store) -> list[Turn]:
    return current_chat(store)["turns"]


def new_chat(store: Store) -> Store:
    """A fresh chat first in the list; an empty current chat is reused rather than piled up."""
    if not turns(store):
        return store
    chat = _new_chat()
    return bound({**store, "current": chat["id"], "chats": [chat] + store["chats"]})


def open_chat(store: Store, chat_id: str) -> Store:
    if any(c["id"] == chat_id for c in store["chats"]):
        return {**store, "current": chat_id}
    return store


def forget_all(store: Store) -> Store:
    return empty_store()


def add_turn(store: Store, turn: Turn, replace_last: bool = False) -> Store:
    chat = current_chat(store)
    kept = chat["turns"][:-1] if replace_last and chat["turns"] else chat["turns"]
    updated = {**chat, "turns": (kept + [turn])[-MAX_TURNS:], "updated": _now(),
               "title": chat["title"] or turn["question"][:80]}
    # the chat just used moves to the top of the list
    chats = [updated] + [c for c in store["chats"] if c["id"] != chat["id"]]
    return bound({**store, "chats": chats})


def make_turn(question: str, response: AskResponse | None = None, error: str | None = None,
              filters: dict | None = None, literal: bool = False, scope: str | None = None) -> Turn:
    return {"question": question, "response": response.model_dump(exclude_none=True) if response else None,
            "error": error, "filters": filters or None, "literal": literal, "scope": scope, "at": _now()}


def response_of(turn: Turn) -> AskResponse | None:
    data = turn.get("response")
    if not data:
        return None
    try:
        return AskResponse.model_validate(data)
    except ValueError:  # an old or altered value in the browser: show the question, not a crash
        return None


def history(store: Store, question: str) -> list[ChatMessage]:
    """The messages sent to the assistant: the last few turns, each message cut to the API's
    limit. A turn asked "as written" starts the context afresh."""
    ts = turns(store)
    start = max((i for i, t in enumerate(ts) if t.get("literal")), default=0)
    messages = []
    for t in ts[start:][-HISTORY_TURNS:]:
        resp = response_of(t)
        if resp is None:  # a failed turn gives no context
            continue
        messages.append(ChatMessage(role="user", content=_cut(t["question"])))
        messages.append(ChatMessage(role="assistant", content=_cut(resp.answer) or "…"))
    messages.append(ChatMessage(role="user", content=_cut(question)))
    return messages


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 1] + "…"


def bound(store: Store) -> Store:
    """At most MAX_CHATS chats and MAX_STORE_CHARS of JSON: the oldest chats go first, and the
    current chat keeps at least its last turn."""
    chats = store["chats"][:MAX_CHATS]
    current = store["current"]
    while len(json.dumps(chats, ensure_ascii=False)) > MAX_STORE_CHARS:
        others = [c for c in chats if c["id"] != current]
        if others:
            chats = [c for c in chats if c is not others[-1]]
            continue
        chat = chats[0]
        if len(chat["turns"]) <= 1:
            break
        chats = [{**chat, "turns": chat["turns"][1:]}]
    if not any(c["id"] == current for c in chats):
        current = chats[0]["id"]
    return {**store, "current": current, "chats": chats}


def chat_choices(store: Store) -> list[tuple[str, str]]:
    """(label, id) for the history picker, newest first."""
    out = []
    for c in store["chats"]:
        if not c["turns"]:
            continue
        title = c["title"] or c["turns"][0]["question"][:80]
        out.append((f"{c['updated']} – {title}", c["id"]))
    return out
