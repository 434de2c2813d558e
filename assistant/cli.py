"""`council`: the command line mirrors the API (ingest, remove, ask, serve, eval)."""
from __future__ import annotations

import argparse
import json
import os
import secrets
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
    if settings.client_key:
        headers["X-API-Key"] = settings.client_key
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


def _refused(exc: urllib.error.HTTPError) -> int:
    try:
        detail = json.loads(exc.read().decode()).get("detail")
    except (ValueError, OSError):
        detail = exc.reason
    print(f"FEL: servern svarade {exc.code}: {detail}", file=sys.stderr)
    if exc.code in (401, 403):
        print("Sätt COUNCIL_CLIENT_KEY till en nyckel med rollen editor, eller stoppa servern och kör "
              "`council ingest --local`.", file=sys.stderr)
    return 1


def _follow(base: str, job: dict) -> dict:
    """Wait for a server-side write job, showing its progress; its report."""
    import time

    shown = None
    while job.get("state") not in ("done", "failed"):
        time.sleep(0.5)
        job = _call(base, "GET", f"/api/jobs/{job['id']}")
        if job.get("total") and (job["done"], job["total"]) != shown:
            shown = (job["done"], job["total"])
            print(f"\r{job['done']}/{job['total']} {job.get('current') or ''}"[:100].ljust(100), end="", file=sys.stderr)
    if shown:
        print(file=sys.stderr)
    if job["state"] == "failed":
        return {"errors": {"(jobb)": job.get("error") or "jobbet misslyckades"}}
    return job.get("result") or {}


def cmd_ingest(args) -> int:
    settings = get_settings()
    paths = [str(Path(p).resolve()) for p in args.paths]
    base = None if args.local else _server(settings)
    if base:
        try:
            return _print_report(_follow(base, _call(base, "POST", "/api/ingest", {"paths": paths})))
        except urllib.error.HTTPError as exc:
            return _refused(exc)
    from index.store import CouncilIndex

    index = CouncilIndex(settings)
    index.reconcile(full=False)  # repairs what a killed earlier run left half-written
    sync = Path(args.paths[0]) if args.sync and len(args.paths) == 1 else None
    # the operator at the machine may ingest any folder (a folder outside the roots is its own root)
    report = index.ingest_paths([Path(p) for p in paths], progress=True, sync_dir=sync, confined=False,
                                level=args.level)
    return _print_report(report.to_dict())


def _document_id(name: str, ids: list[str]) -> str | None:
    """An id as given, or the one document whose id ends with these path components ("x.md")."""
    if name in ids:
        return name
    matches = [i for i in ids if i.endswith("/" + name.strip("/"))]
    if len(matches) > 1:
        print(f"FEL: {name} är flera dokument: {', '.join(matches)}", file=sys.stderr)
    return matches[0] if len(matches) == 1 else None


def cmd_remove(args) -> int:
    settings = get_settings()
    base = _server(settings)
    try:
        if base:
            source = _document_id(args.source, [d["source"] for d in _call(base, "GET", "/api/documents")])
            if source:
                _call(base, "DELETE", "/api/documents/" + urllib.request.quote(source))
        else:
            from index.store import CouncilIndex

            index = CouncilIndex(settings)
            source = _document_id(args.source, [d["source"] for d in index.documents()])
            if source:
                index.remove(source)
    except urllib.error.HTTPError as exc:
        return _refused(exc)
    if not source:
        print(f"FEL: {args.source} finns inte i indexet", file=sys.stderr)
        return 1
    print(f"borttagen: {source}")
    return 0


def cmd_reindex(args) -> int:
    from index.store import CouncilIndex

    settings = get_settings()
    base = _server(settings)
    if base:
        try:
            n = _follow(base, _call(base, "POST", "/api/reindex")).get("chunks", 0)
        except urllib.error.HTTPError as exc:
            return _refused(exc)
    else:
        n = CouncilIndex(settings).rebuild_vectors()
    print(f"vektorindexet återskapat: {n} avsnitt")
    return 0


def cmd_ask(args) -> int:
    from .schemas import AskResponse
    from .ui.render import plain

    settings = get_settings()
    base = _server(settings)  # a running server owns the index: ask it (with the client key's access)
    if base:
        try:
            resp = AskResponse(**_call(base, "POST", "/api/ask", {"question": args.question}, timeout=120))
        except urllib.error.HTTPError as exc:
            return _refused(exc)
    else:
        from index.store import CouncilIndex

        from .service import Assistant

        resp = Assistant(CouncilIndex(settings)).ask(args.question)
    if args.json:
        print(json.dumps(resp.model_dump(), ensure_ascii=False, indent=1))
    else:
        print(plain(resp))
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from .api import create_app, serving_process

    from .security import KeyRing, check_bind

    settings = get_settings()
    host = args.host or settings.host
    check_bind(host, KeyRing.parse(settings.api_keys), args.insecure)
    port = args.port or settings.port
    workers = args.workers or 1
    serving_process()
    if workers > 1:
        # each worker is a process with its own index state; embedded Chroma belongs to one process
        if not settings.chroma_url:
            print("FEL: flera arbetsprocesser delar vektorerna genom en Chroma-server: sätt COUNCIL_CHROMA_URL "
                  "(t.ex. `chroma run --path data/store/chroma --port 8100`)", file=sys.stderr)
            return 2
        # a UI login made through one worker must be valid in the others
        os.environ.setdefault("COUNCIL_SESSION_SECRET", secrets.token_hex(32))
        uvicorn.run("assistant.api:serve_app", factory=True, workers=workers, host=host, port=port,
                    log_level="info", timeout_graceful_shutdown=5)
        return 0
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
    return 0


def cmd_audit(args) -> int:
    from .audit import AuditLog

    settings = get_settings()
    log = AuditLog(settings.audit_path, settings.audit_retention_days, settings.audit_max_rows,
                   enabled=settings.audit_path.exists())
    rows = log.entries(limit=args.limit, since=args.since, key_id=args.key, action=args.action)
    for r in rows:
        if args.json:
            print(json.dumps(r, ensure_ascii=False))
            continue
        flag = " (avstod)" if r["abstained"] else ""
        latency = f" {r['latency_ms']:.0f} ms" if r["latency_ms"] is not None else ""
        print(f"{r['at']}  {r['key_id']} ({r['role']})  {r['action']}{latency}  status {r['status']}{flag}")
        if r["question"]:
            print(f"  fråga: {r['question']}")
        if r["answer"]:
            print(f"  svar:  {r['answer'][:300]}")
        if r["citations"]:
            print(f"  källor: {', '.join(r['citations'])}")
    return 0


def cmd_key(args) -> int:
    from .security import new_key

    key, digest = new_key()
    levels = args.levels.split(",") if args.levels else (["public"] if args.role == "reader" else ["public", "internal"])
    print(f"nyckel (visas en gång): {key}")
    print("COUNCIL_API_KEYS-post: " + json.dumps({args.id: {"sha256": digest, "role": args.role, "levels": levels}}))
    return 0


def cmd_mcp(args) -> int:
    """MCP over stdio for a client that starts the server itself (stdout carries only protocol)."""
    import logging

    from index.store import CouncilIndex

    from .audit import AuditLog
    from .faces import Answering, Faces
    from .mcp_face import build_mcp
    from .security import ALL_LEVELS, Principal
    from .service import Assistant

    levels = frozenset(x.strip() for x in args.levels.split(",") if x.strip())
    if not levels or not levels <= ALL_LEVELS:
        print(f"FEL: okänd nivå i --levels {args.levels!r} (public, internal)", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    settings = get_settings()
    # the agent is a reader of the levels the operator gives it; its questions go to the audit log
    agent = Principal("mcp-stdio", "reader", levels)
    audit = AuditLog(settings.audit_path, settings.audit_retention_days, settings.audit_max_rows, settings.audit)
    build_mcp(Faces(Assistant(CouncilIndex(settings))), settings, local=True, local_caller=agent,
              answering=Answering(audit)).run("stdio")
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
    p.add_argument("--local", action="store_true", help="skriv direkt till indexet (servern ska inte köra)")
    p.add_argument("--level", choices=["public", "internal"],
                   help="åtkomstnivå (standard: rotens nivå i COUNCIL_INGEST_ROOTS, annars public)")
    p.set_defaults(fn=cmd_ingest)
    p = sub.add_parser("remove", help="ta bort ett dokument (dess id, t.ex. corpus/protokoll.pdf)")
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
    p.add_argument("--insecure", action="store_true",
                   help="tillåt en icke-loopback-adress utan API-nycklar (alla kan läsa publika dokument)")
    p.add_argument("--workers", type=int, help="antal arbetsprocesser (över 1 kräver COUNCIL_CHROMA_URL)")
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("audit", help="visa granskningsloggen (frågor, svar, ändringar)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--since", help="från och med, t.ex. 2026-11-01")
    p.add_argument("--key", help="bara denna nyckel (id)")
    p.add_argument("--action", help="ask, chat, ui, search, openai, mcp-ask, mcp-search, ingest, upload, remove, "
                                    "reindex")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_audit)
    p = sub.add_parser("key", help="skapa en API-nyckel och skriv ut dess COUNCIL_API_KEYS-post")
    p.add_argument("id", help="nyckelns id, t.ex. kansliet")
    p.add_argument("--role", choices=["reader", "editor", "admin"], default="reader")
    p.add_argument("--levels", help="kommaseparerat: public,internal")
    p.set_defaults(fn=cmd_key)
    p = sub.add_parser("mcp", help="MCP-server över stdio (för t.ex. Claude Desktop)")
    p.add_argument("--levels", default="public",
                   help="vilka dokument agenten får läsa, kommaseparerat (standard: public; public,internal)")
    p.set_defaults(fn=cmd_mcp)
    p = sub.add_parser("eval", help="kör den gyllene frågemängden")
    p.add_argument("--questions", default=str(Path(__file__).resolve().parent.parent / "eval" / "golden.jsonl"))
    p.add_argument("--base-url", help="mät en körande server i stället för i processen")
    p.add_argument("--out", help="resultatfil (JSON); standard: eval/results/<tid>.json")
    p.add_argument("--verbose", "-v", action="store_true")
    p.set_defaults(fn=cmd_eval)
    args = ap.parse_args(argv)
    from index.locks import StoreBusy

    try:
        return args.fn(args)
    except StoreBusy as exc:
        print(f"FEL: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
