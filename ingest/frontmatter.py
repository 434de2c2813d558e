"""YAML front matter: the fields a converter or an editor writes before a markdown or text file's body.

    ---
    kommun: lerum
    datum: 2024-03-05
    typ: protokoll
    title: Tekniska nämnden, protokoll
    ---

The convention of Jekyll, Hugo, Pandoc and Obsidian, and of archives that convert published PDFs
to markdown. The block is the document's metadata, not its text: it is taken out of the body (its
checksums, URLs and keys would otherwise be the first passage) and handed to
`ingest.metadata`, which trusts what it declares about organisation, date, kind and title. Pure.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

MAX_BLOCK = 16_384   # a front matter is a few lines; a longer "block" is text that starts with a rule
FENCE = re.compile(r"\A\ufeff?---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class FrontMatter:
    fields: dict[str, str] = field(default_factory=dict)  # lower-case key -> scalar value as text
    end: int = 0                                           # where the body begins


def split_front_matter(text: str) -> FrontMatter | None:
    """The front matter at the very start of `text`, or None (no block, not a mapping, not YAML)."""
    m = FENCE.match(text[:MAX_BLOCK])
    if not m or not m.group(1):
        return None
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    fields = {}
    for key, value in data.items():
        if isinstance(value, (str, int, float, dt.date)) and not isinstance(value, bool) and str(value).strip():
            fields[str(key).strip().lower()] = str(value).strip()
    return FrontMatter(fields, m.end()) if fields else None
