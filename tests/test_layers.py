"""The lower layers never import the product layer: `index/` and `ingest/` take their settings
and embedder as arguments (DESIGN: one settings object, passed in)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOWER = sorted(p for d in ("index", "ingest") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", LOWER, ids=lambda p: str(p.relative_to(ROOT)))
def test_lower_layers_do_not_import_assistant(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m == "assistant" or m.startswith("assistant.")]
