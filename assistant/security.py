"""Who is calling, and what they may see and do: the one place access is decided.

Interface for every face (JSON API, Gradio UI, OpenAI-compatible `/v1/*`, MCP at `/mcp`):

- ``Principal`` (frozen): ``key_id``, ``role`` and ``levels`` (a ``frozenset`` of access levels).
  Roles rank ``anonymous < reader < editor < admin``; levels are ``public`` and ``internal``.
- ``get_principal`` is a FastAPI dependency: ``principal: Principal = Depends(get_principal)``.
  It reads the key from ``X-API-Key``, ``Authorization: Bearer <key>`` or the UI's login cookie.
  With keys configured, a presented key that is wrong is a 401 (never silently anonymous); no key
  is the anonymous principal when anonymous reading is allowed, else a 401. With no keys
  configured every caller is anonymous (a key sent anyway, as OpenAI clients do, is ignored).
- ``require_role("editor")`` is a dependency that also returns the principal, or answers
  401 (anonymous) / 403 (too low a role). Every write needs ``editor`` (ingest, upload, remove)
  or ``admin`` (reindex), always: with no keys configured no HTTP caller can write, and the
  operator uses ``council ingest --local``.
- What a caller may read is ``principal.levels``; pass it on as ``levels=principal.levels`` to
  ``Assistant.ask/chat/search`` and to the index's listings (``CouncilIndex.documents(levels)``,
  ``visible_sources(levels)``). ``levels=None`` means unrestricted and is for in-process,
  operator-only callers (CLI local mode, eval), never for a request.
- Outside FastAPI (a Gradio handler, an MCP tool) call ``Security.principal_from_headers(headers)``,
  which raises ``AccessDenied`` instead of an HTTPException; the app's ``Security`` is
  ``app.state.security``.
- A new face should also: answer inside ``with index.snapshot():`` (one consistent index state),
  run the work through ``await app.state.limiter.run(fn)`` (bounded slots and time), and record
  it with ``app.state.audit.record(key_id=…, role=…, action=…, question=…, answer=…, citations=…,
  abstained=…, latency_ms=…)``. Paths under ``/v1/`` and ``/mcp`` are not gated by the UI
  middleware: their routes must depend on ``get_principal`` themselves.

Keys (``COUNCIL_API_KEYS``, JSON): ``{"key-id": {"key": "…", "role": "editor",
"levels": ["public", "internal"]}}``; ``"sha256": "<hex>"`` instead of ``"key"`` stores only a
hash (``council key`` makes a key and prints both forms). A plain JSON list of keys is read as
admin keys with every level (the format before roles). Keys are compared as SHA-256 digests in
constant time, every configured key each time.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request

ROLES = {"anonymous": 0, "reader": 1, "editor": 2, "admin": 3}
LEVELS = ("public", "internal")
ALL_LEVELS = frozenset(LEVELS)
PUBLIC = frozenset({"public"})
SESSION_COOKIE = "council_session"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    levels: frozenset[str]

    def has_role(self, role: str) -> bool:
        return ROLES[self.role] >= ROLES[role]

    def may_see(self, level: str) -> bool:
        return level in self.levels


ANONYMOUS = Principal("anonymous", "anonymous", PUBLIC)
OPERATOR = Principal("operator", "admin", ALL_LEVELS)  # in-process CLI, never a request


class StatusError(Exception):
    """A refusal that carries the HTTP status a face answers it with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AccessDenied(StatusError):
    """Who the caller is could not be established (401) or they may not do this (403)."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    digest: bytes  # sha256 of the key: the key itself need not be kept
    role: str
    levels: frozenset[str]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyRing:
    """The configured keys; looks a presented key up in constant time."""

    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self.keys = tuple(keys)
        self._by_id = {k.key_id: k for k in self.keys}

    def __bool__(self) -> bool:
        return bool(self.keys)

    @classmethod
    def parse(cls, value: object) -> KeyRing:
        """From the `COUNCIL_API_KEYS` setting (already JSON-decoded, or a JSON string)."""
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if not value:
            return cls()
        if isinstance(value, list):  # the format before roles: every key could do everything
            return cls(ApiKey(f"key-{i + 1}", _digest(str(k)), "admin", ALL_LEVELS) for i, k in enumerate(value))
        if not isinstance(value, Mapping):
            raise ValueError("COUNCIL_API_KEYS: väntade ett JSON-objekt {nyckel-id: {key|sha256, role, levels}}")
        keys = []
        for key_id, spec in value.items():
            spec = dict(spec) if isinstance(spec, Mapping) else {"key": spec}
            role = spec.get("role", "reader")
            if role not in ROLES or role == "anonymous":
                raise ValueError(f"COUNCIL_API_KEYS[{key_id}]: okänd roll {role!r} (reader, editor, admin)")
            default = PUBLIC if role == "reader" else ALL_LEVELS
            levels = frozenset(spec.get("levels") or default)
            if not levels <= ALL_LEVELS:
                raise ValueError(f"COUNCIL_API_KEYS[{key_id}]: okänd nivå i {sorted(levels)} (public, internal)")
            if spec.get("sha256"):
                digest = bytes.fromhex(spec["sha256"])
            elif spec.get("key"):
                if len(spec["key"]) < 16:
                    raise ValueError(f"COUNCIL_API_KEYS[{key_id}]: nyckeln är för kort (minst 16 tecken)")
                digest = _digest(spec["key"])
            else:
                raise ValueError(f"COUNCIL_API_KEYS[{key_id}]: ange key eller sha256")
            if len(digest) != 32:
                raise ValueError(f"COUNCIL_API_KEYS[{key_id}]: sha256 ska vara 64 hexadecimala tecken")
            keys.append(ApiKey(str(key_id), digest, role, levels))
        return cls(keys)

    def lookup(self, presented: str) -> Principal | None:
        wanted = _digest(presented)
        found = None
        for k in self.keys:  # no early exit: the time does not depend on which key matched
            if hmac.compare_digest(k.digest, wanted):
                found = k
        return Principal(found.key_id, found.role, found.levels) if found else None

    def by_id(self, key_id: str) -> Principal | None:
        k = self._by_id.get(key_id)
        return Principal(k.key_id, k.role, k.levels) if k else None


class Security:
    """Resolves requests to principals: keys, the UI's session cookie, anonymous reading."""

    def __init__(self, keys: KeyRing, anonymous_read: bool | None = None, session_secret: str | None = None) -> None:
        self.keys = keys
        # reading is open when no keys are configured (loopback by default); with keys, only if asked for
        self.anonymous_read = (not keys) if anonymous_read is None else anonymous_read
        self._secret = (session_secret or "").encode() or secrets.token_bytes(32)

    # -- sessions (the Gradio UI's login) ------------------------------------------
    def session_token(self, principal: Principal, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_SECONDS)
        # no "=" padding: a cookie value with "=" is sent quoted, and read from a raw Cookie header
        # (the gate, Gradio's handlers) the quotes would break the signature for some key ids
        body = base64.urlsafe_b64encode(f"{principal.key_id}\n{expires}".encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()

    def _from_session(self, token: str) -> Principal | None:
        body, _, sig = token.partition(".")
        if not sig or not hmac.compare_digest(sig, self._sign(body)):
            return None
        try:
            key_id, expires = base64.urlsafe_b64decode((body + "=" * (-len(body) % 4)).encode()).decode().split("\n")
            if int(expires) < time.time():
                return None
        except (ValueError, UnicodeDecodeError):
            return None
        return self.keys.by_id(key_id)

    # -- resolution -----------------------------------------------------------------
    def principal_from_headers(self, headers: Mapping[str, str], cookies: Mapping[str, str] | None = None) -> Principal:
        key = headers.get("x-api-key")
        auth = headers.get("authorization") or ""
        if not key and auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
        if key and self.keys:
            principal = self.keys.lookup(key)
            if principal is None:
                raise AccessDenied(401, "Ogiltig API-nyckel.")
            return principal
        # with no keys configured a key cannot be checked (OpenAI clients always send one): anonymous
        token = (cookies or {}).get(SESSION_COOKIE) or _cookie(headers.get("cookie", ""), SESSION_COOKIE)
        if token:
            principal = self._from_session(token)
            if principal is not None:
                return principal
        if self.anonymous_read:
            return ANONYMOUS
        raise AccessDenied(401, "Saknar API-nyckel (X-API-Key eller Authorization: Bearer), eller logga in på /login.")


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v  # a quoted value (RFC 6265)
    return None


def get_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller (see the module docstring)."""
    security: Security = request.app.state.security
    try:
        return security.principal_from_headers(request.headers, request.cookies)
    except AccessDenied as exc:
        raise HTTPException(exc.status, exc.message, headers={"WWW-Authenticate": "Bearer"}) from None


def require_role(role: str):
    """FastAPI dependency factory: the caller, who must have at least `role`."""
    if role not in ROLES:
        raise ValueError(role)

    def dependency(request: Request) -> Principal:
        principal = get_principal(request)
        check_role(principal, role)
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


def check_role(principal: Principal, role: str) -> None:
    if principal.has_role(role):
        return
    if principal.role == "anonymous":
        raise HTTPException(401, f"Kräver en API-nyckel med rollen {role}. Utan server: council ingest --local.",
                            headers={"WWW-Authenticate": "Bearer"})
    raise HTTPException(403, f"Nyckeln {principal.key_id} har rollen {principal.role}; detta kräver {role}.")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, keys: KeyRing, insecure: bool) -> None:
    """Refuse to serve a network without keys: anyone who can reach it could read everything public."""
    if not is_loopback(host) and not keys and not insecure:
        raise SystemExit(f"Vägrar lyssna på {host} utan API-nycklar (COUNCIL_API_KEYS). "
                         "Sätt nycklar, lyssna på 127.0.0.1, eller starta med --insecure.")


def new_key() -> tuple[str, str]:
    """A fresh random key and its sha256 (for `council key`)."""
    key = secrets.token_urlsafe(32)
    return key, hashlib.sha256(key.encode()).hexdigest()
