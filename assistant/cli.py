"""`council`: the command line mirrors the API (ingest, remove, ask, serve, eval)."""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from .settings import get_settings


def _server(settings) -> str | None:
    """The running server's base URL, if one answers: ingest goes through it so it sees new files at once."""
    base = f"http://{settings.host}:{settings.port}"
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1.5) as r:
            return base if r.status == 200 else None
    except (OSError, urllib.error.URLError):
        return None


def _call(base: str, method: str, path: str, payload: dict | None = None, timeout: float = 3600) -> dict:
    settings = get_settings()
    headers = {"Content-Type": "application/json"}
    if settings.api_keys:
        headers["X-API-Key"] = settings.api_keys[0]
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


def _file_summary(rep: dict) -> str:
    """One line per ingested file: pages (OCR'd, skipped), tables, facts, passages."""
    parts = []
    if rep.get("pages"):
        parts.append(f"{rep['pages']} sidor")
        if rep.get("ocr_pages"):
            parts.append(f"OCR på sidorna {', '.join(map(str, rep['ocr_pages']))}")
        if rep.get("skipped_pages"):
            parts.append(f"ej lästa sidor {', '.join(map(str, rep['skipped_pages']))}")
        if rep.get("garbled_pages"):
            parts.append(f"förvanskat textlager på sidorna {', '.join(map(str, rep['garbled_pages']))}")
    parts.append(f"{rep.get('tables', 0)} tabeller, {rep.get('facts', 0)} fakta, {rep.get('chunks', 0)} avsnitt")
    return "; ".join(parts)


def _print_report(report: dict) -> int:
    for key, label in (("added", "nya"), ("updated", "uppdaterade"), ("unchanged", "oförändrade"),
                       ("removed", "borttagna")):
        if report.get(key):
            print(f"{label}: {len(report[key])} ({', '.join(report[key])})")
    for name, rep in report.get("files", {}).items():
        print(f"  {name}: {_file_summary(rep)}")
        for warning in rep.get("warnings", []):
            print(f"    varning: {warning}")
    for name, error in report.get("errors", {}).items():
        print(f"FEL: {error}", file=sys.stderr)
    print(f"tid: {report.get('seconds', 0):.1f} s")
    return 1 if report.get("errors") else 0


def cmd_ingest(args) -> int:
    settings = get_settings()
    paths = [str(Path(p).resolve()) for p in args.paths]
    base = None if args.local else _server(settings)
    if base:
        return _print_report(_call(base, "POST", "/api/ingest", {"paths": paths}))
    from index.store import CouncilIndex

    index = CouncilIndex(settings)
    sync = Path(args.paths[0]) if args.sync and len(args.paths) == 1 else None
    return _print_report(index.ingest_paths([Path(p) for p in paths], progress=True, sync_dir=sync).to_dict())


def cmd_remove(args) -> int:
    settings = get_settings()
    base = _server(settings)
    if base:
        try:
            _call(base, "DELETE", "/api/documents/" + urllib.request.quote(args.source))
        except urllib.error.HTTPError as exc:
            print(f"FEL: {args.source}: {exc.code}", file=sys.stderr)
            return 1
        print(f"borttagen: {args.source}")
        return 0
    from index.store import CouncilIndex

    if CouncilIndex(settings).remove(args.source):
        print(f"borttagen: {args.source}")
        return 0
    print(f"FEL: {args.source} finns inte i indexet", file=sys.stderr)
    return 1


def cmd_reindex(args) -> int:
    from index.store import CouncilIndex

    n = CouncilIndex(get_settings()).rebuild_vectors()
    print(f"vektorindexet återskapat: {n} avsnitt")
    return 0


def cmd_ask(args) -> int:
    from index.store import CouncilIndex

    from .service import Assistant
    from .ui.render import plain

    resp = Assistant(CouncilIndex(get_settings())).ask(args.question)
    if args.json:
        print(json.dumps(resp.model_dump(), ensure_ascii=False, indent=1))
    else:
        print(plain(resp))
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from .api import create_app

    settings = get_settings()
    uvicorn.run(create_app(settings), host=args.host or settings.host, port=args.port or settings.port,
                log_level="info")
    return 0


def cmd_mcp(args) -> int:
    """MCP over stdio for a client that starts the server itself (stdout carries only protocol)."""
    import logging

    from index.store import CouncilIndex

    from .faces import Faces
    from .mcp_face import build_mcp
    from .service import Assistant

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    build_mcp(Faces(Assistant(CouncilIndex(get_settings()))), get_settings(), local=True).run("stdio")
    return 0


def cmd_eval(args) -> int:
    from eval.runner import main as eval_main

    return eval_main(args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="council", description="Rådsassistenten")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ingest", help="läs in filer eller mappar")
    p.add_argument("paths", nargs="+")
    p.add_argument("--sync", action="store_true", help="ta bort dokument som försvunnit ur mappen")
    p.add_argument("--local", action="store_true", help="skriv direkt till indexet även om en server kör")
    p.set_defaults(fn=cmd_ingest)
    p = sub.add_parser("remove", help="ta bort ett dokument (filnamn)")
    p.add_argument("source")
    p.set_defaults(fn=cmd_remove)
    p = sub.add_parser("reindex", help="återskapa vektorindexet (Chroma) från SQLite, t.ex. efter modellbyte")
    p.set_defaults(fn=cmd_reindex)
    p = sub.add_parser("ask", help="ställ en fråga")
    p.add_argument("question")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_ask)
    p = sub.add_parser("serve", help="starta API och chatt")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("mcp", help="MCP-server över stdio (för t.ex. Claude Desktop)")
    p.set_defaults(fn=cmd_mcp)
    p = sub.add_parser("eval", help="kör den gyllene frågemängden")
    p.add_argument("--questions", default=str(Path(__file__).resolve().parent.parent / "eval" / "golden.jsonl"))
    p.add_argument("--base-url", help="mät en körande server i stället för i processen")
    p.add_argument("--out", help="resultatfil (JSON); standard: eval/results/<tid>.json")
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(fn=cmd_eval)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
