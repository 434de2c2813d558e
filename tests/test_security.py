"""Safe by default: writes need a key with the right role, always; the server reads only regular
files under its ingest roots and never says whether another path exists; keys compare right."""
from __future__ import annotations

import json
import os
import time

import pytest
from fastapi.testclient import TestClient

from tiny import KEYS, header, ingest_all, ingest_via_api, two_level_settings


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from assistant.api import create_app

    base = tmp_path_factory.mktemp("sec")
    settings = two_level_settings(base)
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=False)) as client:
        yield settings, client


def test_anonymous_and_readers_cannot_write(env):
    settings, client = env
    for h in ({}, header("reader-pub"), header("reader-int")):
        assert client.post("/api/ingest", json={"paths": [str(settings.corpus_dir)]}, headers=h).status_code in (401, 403)
        assert client.delete("/api/documents/publika/2025_kultur_budget.md", headers=h).status_code in (401, 403)
        assert client.post("/api/upload", files={"file": ("x.md", b"# X\n\nText.")}, headers=h).status_code in (401, 403)
        assert client.post("/api/reindex", headers=h).status_code in (401, 403)
    assert client.post("/api/reindex", headers=header("editor")).status_code == 403  # admin only
    assert client.get("/api/documents/publika/2025_kultur_budget.md").status_code == 200  # nothing was removed
    r = client.post("/api/ingest", json={"paths": ["x"]}, headers={"X-API-Key": "wrong-key-wrong-key"})
    assert r.status_code == 401


def test_no_keys_means_no_http_writes(tmp_path):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path, api_keys={}, anonymous_read=None)
    with TestClient(create_app(settings, with_ui=False)) as client:
        assert client.get("/healthz").status_code == 200  # reading is open on loopback without keys
        # a key sent anyway (OpenAI clients always send one) cannot be checked: the caller is anonymous
        assert client.get("/healthz", headers={"Authorization": "Bearer whatever"}).status_code == 200
        assert client.delete("/api/documents/publika/2025_kultur_budget.md",
                             headers={"X-API-Key": "editor-all-levels-key-04"}).status_code == 401
        r = client.post("/api/ingest", json={"paths": [str(settings.corpus_dir)]})
        assert r.status_code == 401 and "--local" in r.json()["detail"]
        assert client.delete("/api/documents/publika/2025_kultur_budget.md").status_code == 401


def test_keys_required_for_reading_when_configured(tmp_path):
    from assistant.api import create_app

    settings = two_level_settings(tmp_path, anonymous_read=None)
    with TestClient(create_app(settings, with_ui=False)) as client:
        assert client.post("/api/ask", json={"question": "Simhall 2027?"}).status_code == 401
        assert client.post("/api/ask", json={"question": "Simhall 2027?"}, headers=header("reader-pub")).status_code == 200
        bearer = {"Authorization": "Bearer " + KEYS["reader-pub"]["key"]}
        assert client.get("/api/documents", headers=bearer).status_code == 200


def test_paths_outside_roots_are_refused_alike(env, tmp_path):
    settings, client = env
    outside = tmp_path / "canary.md"
    outside.write_text("# Hemligt\n\nUtanför rötterna.", encoding="utf-8")
    answers = []
    for p in (str(outside), str(tmp_path / "finns-inte.md"), "/etc/passwd", "/root", "/dev/zero",
              str(settings.corpus_dir) + "/../interna2/x.md", str(settings.corpus_dir) + "2"):
        body = ingest_via_api(client, [p], header("editor"))
        assert not body["added"] and len(body["errors"]) == 1
        answers.append(next(iter(body["errors"].values())).split(": ", 1)[1])
    assert len(set(answers)) == 1 and "finns" not in answers[0]  # one message: existence is not revealed


def test_symlinks_devices_fifos_and_sizes_inside_a_root(env):
    settings, client = env
    root = settings.corpus_dir
    links = []
    try:
        (root / "zero.txt").symlink_to("/dev/zero")
        (root / "passwd.txt").symlink_to("/etc/passwd")
        os.mkfifo(root / "fifo.md")
        with open(root / "huge.md", "wb") as f:  # sparse: large on paper, nothing to read
            f.truncate(int(settings.max_file_mb * 1024 * 1024) + 1)
        links = ["zero.txt", "passwd.txt", "fifo.md", "huge.md"]
        t = time.perf_counter()
        for name in links:
            body = ingest_via_api(client, [str(root / name)], header("editor"))
            assert not body["added"] and body["errors"], (name, body)
        walked = ingest_via_api(client, [str(root)], header("editor"))
        assert time.perf_counter() - t < 10  # nothing blocked on the FIFO or read /dev/zero
        assert not any(n in s for s in walked["added"] + walked["updated"] for n in ("zero", "passwd"))
        assert "publika/huge.md" in walked["errors"] and "för stor" in walked["errors"]["publika/huge.md"]
        assert "publika/fifo.md" not in walked["added"]  # not a regular file: skipped by the walk
    finally:
        for name in links or ["zero.txt", "passwd.txt", "fifo.md", "huge.md"]:
            (root / name).unlink(missing_ok=True)


def test_bad_path_strings_are_a_clear_4xx(env):
    _, client = env
    for raw in (b'{"paths": ["\\ud800"]}', json.dumps({"paths": ["a" * 5000]}).encode(),
                b'{"paths": []}', b'{"paths": ["x\\u0000y"]}'):
        r = client.post("/api/ingest", content=raw, headers={**header("editor"), "Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (raw[:40], r.status_code, r.text[:200])
    r = client.post("/api/ask", content=b'{"question": "Simhall \\udc00 2027?"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "Ogiltig" in r.json()["detail"]


def test_max_files_applies_during_the_walk(tmp_path):
    from index.store import CouncilIndex

    settings = two_level_settings(tmp_path, max_files=3)
    many = settings.corpus_dir / "många"
    many.mkdir()
    for i in range(40):
        (many / f"{i:03}.md").write_text(f"# Dokument {i}\n\nText {i}.", encoding="utf-8")
    index = CouncilIndex(settings)
    report = index.ingest_paths([many], sync_dir=many)
    assert not report.added and "för många" in next(iter(report.errors.values()))
    assert not report.removed


def test_upload_with_levels(env):
    settings, client = env
    doc = b"# Uppladdad rapport\n\nRapporten om Grusplanen kostar 31 337 kr."
    r = client.post("/api/upload", files={"file": ("rapport grus.md", doc)}, data={"level": "internal"},
                    headers=header("editor-pub"))
    assert r.status_code == 403  # a public-only editor may not write internal documents
    r = client.post("/api/upload", files={"file": ("rapport grus.md", doc)}, data={"level": "internal"},
                    headers=header("editor"), params={"wait": 30})
    assert r.status_code == 200 and r.json()["result"]["added"] == ["uploads/rapport grus.md"]
    assert client.get("/api/documents/uploads/rapport grus.md").status_code == 404  # anonymous: not visible
    assert client.get("/api/documents/uploads/rapport grus.md", headers=header("reader-int")).status_code == 200
    for name, data in (("../../etc/x.md", doc), ("x.exe", b"MZ"), ("tom.md", b"  "), ("trasig.pdf", b"%PDF-1.4 x")):
        r = client.post("/api/upload", files={"file": (name, data)}, headers=header("editor"), params={"wait": 30})
        assert r.status_code == 422, (name, r.status_code, r.text)
    assert not [p for p in (settings.data_dir / "uploads").iterdir() if "trasig" in p.name]
    assert client.delete("/api/documents/uploads/rapport grus.md", headers=header("editor-pub")).status_code == 404
    assert client.delete("/api/documents/uploads/rapport grus.md", headers=header("editor")).status_code == 200


def test_large_bodies_are_refused_before_parsing(env):
    _, client = env
    t = time.perf_counter()
    r = client.post("/api/ask", content=b"{" + b" " * (50 * 1024 * 1024) + b"}",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and time.perf_counter() - t < 5

    def chunks():  # no Content-Length: counted while received
        for _ in range(3000):
            yield b" " * 1024

    assert client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"}).status_code == 413


def test_binding_a_network_address_needs_keys():
    from assistant.security import KeyRing, check_bind

    with pytest.raises(SystemExit):
        check_bind("0.0.0.0", KeyRing(), insecure=False)
    check_bind("0.0.0.0", KeyRing(), insecure=True)
    check_bind("127.0.0.1", KeyRing(), insecure=False)
    check_bind("::1", KeyRing(), insecure=False)
    check_bind("0.0.0.0", KeyRing.parse(KEYS), insecure=False)


def test_key_ring_formats():
    import hashlib

    from assistant.security import KeyRing

    ring = KeyRing.parse(json.dumps({"a": {"sha256": hashlib.sha256(b"a-long-enough-secret").hexdigest(),
                                           "role": "editor"}}))
    p = ring.lookup("a-long-enough-secret")
    assert p and p.role == "editor" and p.levels == {"public", "internal"}
    assert ring.lookup("a-long-enough-secreT") is None
    legacy = KeyRing.parse(["old-key"])
    assert legacy.lookup("old-key").role == "admin"
    assert KeyRing.parse({"r": {"key": "reader-key-long-enough"}}).lookup("reader-key-long-enough").levels == {"public"}
    for bad in ({"x": {"key": "short"}}, {"x": {"key": "k" * 20, "role": "god"}}, {"x": {"role": "reader"}},
                {"x": {"key": "k" * 20, "levels": ["secret"]}}):
        with pytest.raises(ValueError):
            KeyRing.parse(bad)


def test_same_file_name_in_two_folders_is_two_documents(tmp_path):
    from index.store import CouncilIndex

    settings = two_level_settings(tmp_path)
    for sub in ("a", "b"):
        (settings.corpus_dir / sub).mkdir()
        (settings.corpus_dir / sub / "protokoll.md").write_text(f"# Protokoll {sub}\n\nText om {sub}.", encoding="utf-8")
    sibling = tmp_path / "publika2"  # a sibling whose name starts like the root's
    index = CouncilIndex(settings)
    report = index.ingest_paths([settings.corpus_dir], sync_dir=settings.corpus_dir)
    assert {"publika/a/protokoll.md", "publika/b/protokoll.md"} <= set(report.added)
    sibling.mkdir()
    report = index.ingest_paths([settings.corpus_dir / "a"], sync_dir=settings.corpus_dir / "a")
    assert report.unchanged == ["publika/a/protokoll.md"] and not report.removed
    (settings.corpus_dir / "a" / "protokoll.md").unlink()
    report = index.ingest_paths([settings.corpus_dir / "a"], sync_dir=settings.corpus_dir / "a")
    assert report.removed == ["publika/a/protokoll.md"]  # whole components: b/ and publika2/ untouched
    assert {d["source"] for d in index.documents()} >= {"publika/b/protokoll.md", "publika/2025_kultur_budget.md"}


def test_the_login_cookie_works_for_every_key_id(tmp_path):
    """The session token must survive the trip through a browser for any key id: a token with
    base64 "=" padding is set as a quoted cookie value, which the gate and the Gradio handlers
    (which read the raw Cookie header) once failed to verify, so some editors could not log in."""
    from assistant.api import create_app
    from assistant.security import ANONYMOUS, KeyRing, Principal, Security

    security = Security(KeyRing.parse({f"k{'x' * n}": {"key": f"key-number-{n:02d}-long-enough", "role": "editor"}
                                       for n in range(6)}))
    for n in range(6):
        who = Principal(f"k{'x' * n}", "editor", frozenset({"public", "internal"}))
        token = security.session_token(who)
        assert "=" not in token and '"' not in token
        for cookie in (f"council_session={token}", f'a=b; council_session="{token}"'):
            assert security.principal_from_headers({"cookie": cookie}) == who
    assert Security(KeyRing(), anonymous_read=True).principal_from_headers({"cookie": "council_session=x.y"}) == ANONYMOUS

    keys = {"personal": {"key": "personal-editor-key-0001", "role": "editor"}}  # "personal\n…" needs padding
    settings = two_level_settings(tmp_path, api_keys=keys, anonymous_read=False)
    ingest_all(settings)
    with TestClient(create_app(settings, with_ui=True)) as c:
        assert c.post("/login", data={"key": "personal-editor-key-0001"}, follow_redirects=False).status_code == 303
        assert c.get("/gradio_api/info").status_code == 200  # the gate reads the raw Cookie header
        assert "Kanarieholmen" in c.get("/dokument/interna/2026_hemlig_forstudie.md").text
