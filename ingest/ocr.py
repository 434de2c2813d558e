"""OCR of PDF pages with Tesseract (Swedish data), run as a subprocess.

Pages are rendered with pypdfium2 (Apache/BSD, a pdfplumber dependency) in the caller's thread
(pdfium is not thread-safe) and read by `tesseract` processes in a small thread pool, so OCR of
the scanned pages runs on one core while the text layer of the other pages is parsed on the
other.  Tesseract's TSV output keeps each word's box, so an OCR'd page goes through the same
layout code (furniture, paragraphs, tables) as a page with a text layer.
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache

from .pdf_layout import Word

ENABLE_HINT = "installera Tesseract med svenska: apt-get install tesseract-ocr tesseract-ocr-swe"
DPI = 200  # measured: as good as 300 dpi on 10–12 pt scans, a third faster


@lru_cache(maxsize=1)
def tesseract_languages() -> frozenset[str]:
    exe = shutil.which("tesseract")
    if not exe:
        return frozenset()
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(ln.strip() for ln in out.stdout.splitlines()[1:] if ln.strip())


def available(lang: str = "swe") -> bool:
    return lang in tesseract_languages()


def render_page(page, dpi: int = DPI) -> bytes:
    """One pypdfium2 page as a grayscale PGM (Tesseract reads it without a PNG encode)."""
    image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    buf = io.BytesIO()
    image.save(buf, format="PPM")
    return buf.getvalue()


def parse_tsv(tsv: str, dpi: int = DPI, min_conf: float = 10.0) -> list[Word]:
    """Tesseract TSV words → Words in PDF points (72 per inch).  Each word gets its line's
    top and bottom: a word's own box varies with its letters (ascenders, descenders), which
    would break lines and paragraphs apart."""
    scale = 72 / dpi
    line_box: dict[tuple[str, ...], tuple[int, int]] = {}
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        try:
            left, top, width, height = (int(row[k]) for k in ("left", "top", "width", "height"))
            conf = float(row["conf"])
        except (KeyError, TypeError, ValueError):
            continue
        key = tuple(row.get(k) or "" for k in ("page_num", "block_num", "par_num", "line_num"))
        if row.get("level") == "4":
            line_box[key] = (top, top + height)
            continue
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text or conf < min_conf:
            continue
        ltop, lbottom = line_box.get(key, (top, top + height))
        words.append(Word(text, left * scale, (left + width) * scale, ltop * scale, lbottom * scale))
    return words


def run_tesseract(image: bytes, lang: str = "swe", timeout: float = 60.0) -> str:
    """TSV of one page image; one thread per process so two pages use two cores."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run(["tesseract", "stdin", "stdout", "-l", lang, "--psm", "3", "tsv"], input=image,
                         capture_output=True, timeout=timeout, env=env, check=True)
    return out.stdout.decode("utf-8", "replace")


class OcrPool:
    """Tesseract jobs in the background; `submit` returns a future of Words."""

    def __init__(self, workers: int | None = None, lang: str = "swe", dpi: int = DPI) -> None:
        self.lang, self.dpi = lang, dpi
        # one Tesseract per core: each runs single-threaded, the text layer parses alongside
        self._pool = ThreadPoolExecutor(max_workers=workers or max(1, min(4, os.cpu_count() or 2)))

    def submit(self, image: bytes, timeout: float) -> Future:
        return self._pool.submit(lambda: parse_tsv(run_tesseract(image, self.lang, timeout), self.dpi))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
