"""Which files an ingest may read, and what each document is called.

A server reads only regular files under its ingest roots, checked after symlinks are
resolved; anything else gets one message that does not say whether the path exists. A
document's identity is ``<root name>/<path relative to the root>`` (``corpus/2026/protokoll.pdf``),
so two files with the same name in different folders are two documents. Folders are walked
without following symlinked folders, skipping hidden entries, and the walk stops as soon as
it has seen more than the allowed number of entries.
"""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.readers import SUPPORTED_SUFFIXES

MAX_PATH_CHARS = 1024
WALK_ENTRIES_PER_FILE = 20  # a walk may look at this many entries per allowed file before giving up
NOT_ALLOWED = "sökvägen är inte tillåten (bara filer under COUNCIL_INGEST_ROOTS kan läsas in)"
UPLOAD_ROOT = "uploads"  # uploaded documents are called uploads/<id>
SAFE_ID = re.compile(r"[\w][\w .,()+&'-]*")


@dataclass(frozen=True)
class IngestRoot:
    name: str     # first component of every identity under it
    path: Path    # resolved
    level: str = "public"


@dataclass(frozen=True)
class FileTarget:
    path: Path    # resolved path of a regular file
    source: str   # the document's identity
    level: str
    root: str


class PathRejected(ValueError):
    """A requested path that may not be ingested; the message is safe to show the caller."""


def parse_roots(value: Iterable[str | dict] | None, default: Path) -> tuple[IngestRoot, ...]:
    items = list(value) if value else [{"path": str(default)}]
    roots: list[IngestRoot] = []
    for item in items:
        spec = {"path": item} if isinstance(item, (str, os.PathLike)) else dict(item)
        path = Path(os.path.realpath(Path(spec["path"]).expanduser()))
        name = str(spec.get("name") or path.name or "root")
        level = str(spec.get("level") or "public")
        if level not in ("public", "internal"):
            raise ValueError(f"COUNCIL_INGEST_ROOTS: okänd nivå {level!r} för {path}")
        if not SAFE_ID.fullmatch(name) or "/" in name:
            raise ValueError(f"COUNCIL_INGEST_ROOTS: ogiltigt namn {name!r}")
        if name == UPLOAD_ROOT:
            raise ValueError(f"COUNCIL_INGEST_ROOTS: namnet {UPLOAD_ROOT!r} är reserverat för uppladdningar")
        if any(r.name == name for r in roots):
            raise ValueError(f"COUNCIL_INGEST_ROOTS: två rötter heter {name!r}; ge dem olika \"name\"")
        roots.append(IngestRoot(name, path, level))
    return tuple(roots)


def check_path_text(text: str) -> str:
    """A path string a caller sent: bounded, no NUL, encodable (no lone surrogates)."""
    if len(text) > MAX_PATH_CHARS:
        raise PathRejected(f"sökvägen är för lång ({len(text)} tecken, högst {MAX_PATH_CHARS})")
    if "\x00" in text:
        raise PathRejected("sökvägen innehåller ett NUL-tecken")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise PathRejected("sökvägen innehåller ogiltiga tecken") from None
    return text


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)  # whole path components: /data/corpus2 ∉ /data/corpus


def _owning_root(real: Path, roots: tuple[IngestRoot, ...]) -> IngestRoot | None:
    # the deepest root wins when roots nest
    best = None
    for r in roots:
        if _under(real, r.path) and (best is None or len(r.path.parts) > len(best.path.parts)):
            best = r
    return best


def identity(real: Path, root: IngestRoot) -> str:
    return "/".join((root.name, *real.relative_to(root.path).parts))


def resolve_request(text: str | Path, roots: tuple[IngestRoot, ...], confined: bool = True,
                    level: str | None = None) -> tuple[Path, IngestRoot]:
    """The real path a caller asked for and the root it lies under. When `confined` (a server
    request) it must lie under a root; the operator's local CLI may name any folder, which then
    acts as its own root (named after the folder)."""
    raw = Path(check_path_text(str(text))).expanduser()
    if not raw.is_absolute() and raw.parts and any(r.name == raw.parts[0] for r in roots):
        root = next(r for r in roots if r.name == raw.parts[0])  # "corpus/x.md": an identity
        raw = root.path.joinpath(*raw.parts[1:])
    real = Path(os.path.realpath(raw))
    root = _owning_root(real, roots)
    if root is None:
        if confined:
            raise PathRejected(NOT_ALLOWED)
        base = real if real.is_dir() else real.parent
        root = IngestRoot(base.name or "root", base, level or "public")
    elif level and level != root.level:
        root = IngestRoot(root.name, root.path, level)
    return real, root


def walk(real: Path, root: IngestRoot, roots: tuple[IngestRoot, ...], max_files: int,
         confined: bool = True, max_entries: int | None = None) -> Iterator[FileTarget]:
    """The document files at or below `real`, in a stable order; raises PathRejected when there
    are more than `max_files` of them or the walk would look at too many entries."""
    try:
        st = os.stat(real)
    except OSError:
        raise PathRejected("filen finns inte") from None
    if stat.S_ISREG(st.st_mode):
        if max_files < 1:
            raise PathRejected("för många filer (gränsen är COUNCIL_MAX_FILES per inläsning)")
        yield _target(real, root)
        return
    if not stat.S_ISDIR(st.st_mode):
        raise PathRejected("inte en vanlig fil eller mapp")
    budget = max_entries if max_entries is not None else max_files * WALK_ENTRIES_PER_FILE
    found = 0
    stack = [real]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = []
                for e in it:
                    budget -= 1
                    if budget < 0:
                        raise PathRejected("för många poster att gå igenom (gränsen följer COUNCIL_MAX_FILES)")
                    entries.append(e)
        except OSError:
            continue  # an unreadable folder is skipped, like a hidden one
        subfolders = []
        for e in sorted(entries, key=lambda e: e.name):
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    subfolders.append(Path(e.path))
                    continue
                if Path(e.name).suffix.lower() not in SUPPORTED_SUFFIXES or not e.is_file():
                    continue
            except OSError:
                continue
            target_real = Path(os.path.realpath(e.path))
            if confined and e.is_symlink() and _owning_root(target_real, roots) is None:
                continue  # a link may point anywhere: its target must be allowed too
            found += 1
            if found > max_files:
                raise PathRejected("för många filer (gränsen är COUNCIL_MAX_FILES per inläsning)")
            # the folders walked are real (symlinked folders are not followed), so the entry's own
            # path names the document where it was found
            yield FileTarget(target_real, identity(Path(e.path), root), root.level, root.name)
        stack.extend(reversed(subfolders))


def _target(real: Path, root: IngestRoot) -> FileTarget:
    return FileTarget(real, identity(real, root), root.level, root.name)


def check_upload_id(name: str) -> str:
    """An uploaded document's id (its file name, or an explicit relative path)."""
    name = check_path_text(name).strip().replace("\\", "/")
    parts = [p for p in name.split("/") if p]
    if not parts or len(name) > 200 or any(p in (".", "..") or not SAFE_ID.fullmatch(p) for p in parts):
        raise PathRejected("ogiltigt dokument-id (bokstäver, siffror, mellanslag och .,()-_ i varje del)")
    if Path(parts[-1]).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise PathRejected("filtypen stöds inte (stöds: .txt, .md, .html, .pdf, .docx)")
    return "/".join(parts)
