"""Who may call what: the admin token, and the defaults that keep a browser from being turned against the API.

A page on another site can make the visitor's browser send requests to this server (it listens on
their loopback, or on a LAN): a ``text/plain`` POST or an ``<img>`` GET needs no permission. So:

- the ``Host`` header must name this server (loopback names, the bound host, ``SALESCAST_ALLOWED_HOSTS``):
  a DNS-rebinding page reaches us under its own name and is refused;
- a state-changing request (any method but GET, HEAD, OPTIONS) carrying an ``Origin`` other than ours or
  one of ``SALESCAST_ALLOWED_ORIGINS``, or ``Sec-Fetch-Site: cross-site``, is refused with 403;
- JSON bodies must be sent as ``application/json`` (415), which no cross-site form can do;
- ``GET /init_database`` (kept for old clients) is refused to browsers unless authenticated.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from salescast.api.errors import send_json_error
from salescast.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="SALESCAST_ADMIN_TOKEN (required only when it is set).")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_admin(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Reject the request with 401 unless it carries ``Authorization: Bearer <SALESCAST_ADMIN_TOKEN>``."""
    token = request.app.state.settings.admin_token
    if not token:
        return
    supplied = credentials.credentials.strip() if credentials else ""
    if not secrets.compare_digest(supplied.encode(), token.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="admin endpoint: send the header 'Authorization: Bearer <SALESCAST_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_json_body(request: Request) -> None:
    """415 unless the body is declared ``application/json`` (or ``application/<something>+json``).

    ``async``: FastAPI runs a plain function in its thread pool, a hop per post.
    """
    declared = request.headers.get("content-type", "")
    media_type = declared.split(";", 1)[0].strip().lower()
    is_json = media_type == "application/json" or (media_type.startswith("application/") and media_type[-5:] == "+json")
    if not is_json:
        raise HTTPException(
            status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"send the body as JSON with 'Content-Type: application/json' (got {declared[:100] or 'none'!r})",
        )


def _header(headers: Iterable[tuple[bytes, bytes]], wanted: bytes) -> str | None:
    for name, value in headers:
        if name == wanted:
            return value.decode("latin-1")
    return None


def cross_site_refusal(headers: Iterable[tuple[bytes, bytes]], allowed_origins: frozenset[str]) -> str | None:
    """Why a state-changing request with these headers must be refused as cross-site, or None.

    Allowed: no ``Origin`` (not a browser, or a same-origin GET), our own origin (its host is the
    ``Host`` header: the interactive docs), or one of ``allowed_origins``.
    """
    headers = list(headers)
    origin = _header(headers, b"origin")
    if origin is not None:
        origin = origin.strip().rstrip("/")
        if origin in allowed_origins:
            return None
        host = _header(headers, b"host")
        if origin != "null" and host is not None and urlsplit(origin).netloc.lower() == host.strip().lower():
            return None
        return f"cross-site request from origin {origin[:100]!r} refused; add it to SALESCAST_ALLOWED_ORIGINS"
    if (_header(headers, b"sec-fetch-site") or "").strip().lower() == "cross-site":
        return "cross-site request refused (Sec-Fetch-Site: cross-site); send it from an allowed origin"
    return None


class CrossSiteGuard:
    """Pure ASGI middleware: 403 for a state-changing request a browser sends on another site's behalf."""

    def __init__(self, app, allowed_origins: Iterable[str]) -> None:
        self.app = app
        self.allowed_origins = frozenset(allowed_origins)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            reason = cross_site_refusal(scope["headers"], self.allowed_origins)
            if reason is not None:
                await send_json_error(send, 403, reason)
                return
        await self.app(scope, receive, send)


def refuse_browser_reset(request: Request) -> None:
    """For ``GET /init_database``: a browser (``Origin`` or any ``Sec-Fetch-*`` header) must authenticate.

    A GET that empties the tables can be sent by an ``<img>`` tag or a prefetch; scripts and ``curl``
    send neither header. Called after :func:`require_admin`, so with a token set the caller is
    authenticated; cross-site origins are refused either way.
    """
    settings: Settings = request.app.state.settings
    reason = cross_site_refusal(request.scope["headers"], frozenset(settings.allowed_origins))
    if reason is None and not settings.admin_token:
        from_browser = any(name == b"origin" or name.startswith(b"sec-fetch-") for name, _ in request.scope["headers"])
        if from_browser:
            reason = (
                "GET /init_database empties every sales table: a browser may not send it unauthenticated; "
                "call POST /init_database (with the admin token when one is set)"
            )
    if reason is not None:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=reason)


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """The ``Host`` names this server answers to: loopback, the bound host and ``SALESCAST_ALLOWED_HOSTS``.

    Bound to every interface (``0.0.0.0``), it also answers to the machine's name and its addresses; a
    name clients use through DNS or a proxy must be listed.
    """
    names = {*LOOPBACK_HOSTS, settings.host.lower(), *(host.lower() for host in settings.allowed_hosts)}
    if settings.host in _WILDCARD_BINDS:
        machine = {socket.gethostname(), socket.getfqdn()}
        names |= {name.lower() for name in machine}
        for name in machine:
            try:
                names |= {str(info[4][0]) for info in socket.getaddrinfo(name, None)}
            except OSError:
                continue
    return frozenset(names - {""})


def _host_name(host: str) -> str:
    """``host[:port]`` → host, lowercased; ``[::1]:8000`` → ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class HostCheck:
    """Pure ASGI middleware: 400 unless the ``Host`` header names this server (as Starlette's
    ``TrustedHostMiddleware``, with IPv6 literals and the API's JSON error body)."""

    def __init__(self, app, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        allowed = set(allowed_hosts)
        self.any_host = "*" in allowed
        self.suffixes = tuple(host[1:] for host in allowed if host.startswith("*."))
        self.names = frozenset(host for host in allowed if not host.startswith("*"))

    def allows(self, host: str | None) -> bool:
        if self.any_host:
            return True
        if not host:
            return False
        name = _host_name(host)
        return name in self.names or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            host = _header(scope["headers"], b"host")
            if not self.allows(host):
                shown = "missing" if host is None else repr(host[:100])
                await send_json_error(
                    send, 400, f"Host header {shown} does not name this server; add it to SALESCAST_ALLOWED_HOSTS"
                )
                return
        await self.app(scope, receive, send)
