"""Links to a cited passage in the document view, built in one place for every face.

The document view (`/dokument/{source}?start=..&end=..#markering`) shows the document with the
cited span highlighted (`ui/docview.py` writes the `<mark id="markering">` the anchor scrolls to). Tools that show our answers elsewhere (Open WebUI, LibreChat, an MCP agent)
need absolute links, so the base comes from `COUNCIL_PUBLIC_URL` when the server sits behind a
proxy, else from the URL the request came to.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from .settings import Settings

DOCUMENT_VIEW = "/dokument"
ANCHOR = "markering"  # the id of the highlighted span in the document view


def public_base(settings: Settings, request_base: str | None = None) -> str:
    """The server's public base URL without a trailing slash."""
    base = settings.public_url or request_base or f"http://{settings.host}:{settings.port}"
    return base.rstrip("/")


def document_path(source: str, start: int | None = None, end: int | None = None) -> str:
    """The document view of `source`, scrolled to and highlighting characters start..end (relative,
    so the browser UI works behind any prefix)."""
    url = f"{DOCUMENT_VIEW}/{quote(source, safe='/')}"
    if start is not None and end is not None and end > start:
        url += "?" + urlencode({"start": start, "end": end}) + "#" + ANCHOR
    return url


def passage_url(base: str, source: str, start: int | None = None, end: int | None = None) -> str:
    """`document_path` as an absolute link, for tools that show our answers elsewhere."""
    return base.rstrip("/") + document_path(source, start, end)
