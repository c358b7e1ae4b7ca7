"""CSRF protection: a signed double-submit cookie checked on every unsafe request.

We started with ``asgi-csrf``, but its multipart check breaks against python-multipart 0.0.26 and
later (simonw/asgi-csrf#38, open), and pinning the older parser would bring back its CVEs. This
module keeps asgi-csrf's rules with the current parser API:

- a ``csrftoken`` cookie holds a signed random token bound to the sign-in session (a hash of the
  session's id, empty before sign-in): a token from before sign-in or from another session —
  say one an attacker planted — is worth nothing, and a new one is issued; pages put it in a
  hidden ``csrftoken`` field (``request.scope["csrftoken"]()`` returns it and makes sure the
  cookie is set);
- a POST, PUT, PATCH or DELETE passes when the ``x-csrftoken`` header or the form's ``csrftoken``
  field matches the cookie (for multipart forms the field must come before any file);
- requests with a bearer token, and requests carrying no cookie at all, cannot be forged by a
  browser and pass — except on the sign-in and registration forms, which always check (login CSRF).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "csrftoken"
FIELD = b"csrftoken"
HEADER = b"x-csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ALWAYS_PROTECT = frozenset(
    {
        "/login",
        "/login/second-factor",
        "/login/second-factor/setup",
        "/register",
        "/register/confirm",
    }
)


class _TokenFound(Exception):
    pass


class _FileFirst(Exception):
    pass


class Replay:
    """The request body read so far, handed to the app again before the rest of it."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.messages: list[Message] = []
        self.complete = False

    async def read(self) -> bytes:
        message = await self._receive()
        self.messages.append(message)
        self.complete = not message.get("more_body", False)
        return bytes(message.get("body", b""))

    async def receive(self) -> Message:
        if self.messages:
            return self.messages.pop(0)
        return await self._receive()


async def _form_token(replay: Replay) -> str | None:
    body = b""
    while not replay.complete:
        body += await replay.read()
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        if name == FIELD.decode():
            return value
    return None


@dataclass
class _Part:
    header: bytes = b""
    name: bytes = b""
    is_file: bool = False
    value: bytes = b""


async def _multipart_token(replay: Replay, boundary: bytes) -> str | None:
    """Read parts until the token field; a file part before it fails the check."""
    part = _Part()

    def on_part_begin() -> None:
        part.name, part.is_file, part.value = b"", False, b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.header = data[start:end].lower()

    def on_header_value(data: bytes, start: int, end: int) -> None:
        if part.header == b"content-disposition":
            _, options = parse_options_header(data[start:end])
            part.name = options.get(b"name", b"")
            part.is_file = b"filename" in options

    def on_headers_finished() -> None:
        if part.is_file:
            raise _FileFirst

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.name == FIELD:
            part.value += data[start:end]

    def on_part_end() -> None:
        if part.name == FIELD:
            raise _TokenFound(part.value.decode("latin-1"))

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        while not replay.complete:
            parser.write(await replay.read())
    except _TokenFound as found:
        return str(found.args[0])
    except _FileFirst:
        return None
    return None


class CSRFMiddleware:
    def __init__(self, app: ASGIApp, *, secret: str, secure: bool) -> None:
        self.app = app
        self.signer = URLSafeSerializer(secret, salt="vulnops-csrf")
        self.secure = secure

    def _cookie_token(self, scope: Scope, binding: str) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                token = cookie_parser(value.decode("latin-1")).get(COOKIE)
                if token is None:
                    continue
                try:
                    payload = self.signer.loads(token)
                except BadSignature:
                    return None
                bound = isinstance(payload, list) and len(payload) == 2 and payload[1] == binding
                return token if bound else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        binding = _session_binding(scope)
        existing = self._cookie_token(scope, binding)
        token = existing
        needs_cookie = False

        def get_token() -> str:
            """Signed when a page first asks for it: an API call never does."""
            nonlocal needs_cookie, token
            if token is None:
                token = self.signer.dumps([secrets.token_urlsafe(24), binding])
                needs_cookie = True
            return token

        scope = {**scope, "csrftoken": get_token}

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and needs_cookie:
                attributes = f"{COOKIE}={token}; Path=/; SameSite=Strict"
                if self.secure:
                    attributes += "; Secure"
                headers = [*message.get("headers", []), (b"set-cookie", attributes.encode())]
                headers.append((b"vary", b"Cookie"))
                message = {**message, "headers": headers}
            await send(message)

        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send_with_cookie)
            return
        passed, receive = await self._check(scope, receive, existing)
        if passed:
            await self.app(scope, receive, send_with_cookie)
        else:
            await _refuse(scope, send)

    async def _check(
        self, scope: Scope, receive: Receive, cookie_token: str | None
    ) -> tuple[bool, Receive]:
        headers = dict(scope.get("headers", []))
        sent_header = headers.get(HEADER, b"").decode("latin-1")
        if cookie_token and sent_header and secrets.compare_digest(sent_header, cookie_token):
            return True, receive
        if b"cookie" not in headers and scope["path"] not in ALWAYS_PROTECT:
            return True, receive
        if headers.get(b"authorization", b"").lower().startswith(b"bearer "):
            return True, receive
        if cookie_token is None:
            return False, receive
        content_type, options = parse_options_header(headers.get(b"content-type", b""))
        replay = Replay(receive)
        if content_type == b"application/x-www-form-urlencoded":
            sent = await _form_token(replay)
        elif content_type == b"multipart/form-data" and b"boundary" in options:
            sent = await _multipart_token(replay, options[b"boundary"])
        else:
            sent = None
        passed = sent is not None and secrets.compare_digest(sent, cookie_token)
        return passed, replay.receive


def _session_binding(scope: Scope) -> str:
    """A hash of the session's id (the session middleware runs first), or "" before sign-in."""
    sid = scope.get("session", {}).get("sid")
    return hashlib.sha256(str(sid).encode()).hexdigest()[:32] if sid else ""


async def _refuse(scope: Scope, send: Send) -> None:
    detail = "the form's CSRF token is missing or does not match; reload the page and try again"
    if scope["path"].startswith("/api/"):
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "CSRF check failed",
                "status": 403,
                "detail": detail + " (API clients: send `Authorization: Bearer <token>`, or the "
                "csrftoken cookie's value in an `x-csrftoken` header)",
                "instance": scope["path"],
            }
        ).encode()
        content_type = b"application/problem+json"
    else:
        body = (
            "<!doctype html><title>CSRF check failed</title><h1>403 · CSRF check failed</h1>"
            f'<p>{detail}.</p><p><a href="/">Back to the start</a></p>'
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {"type": "http.response.start", "status": 403, "headers": [(b"content-type", content_type)]}
    )
    await send({"type": "http.response.body", "body": body})
