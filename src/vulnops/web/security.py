"""Security headers on every response, and CSRF protection on every unsafe request."""

from __future__ import annotations

import json
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
# Swagger UI sets inline style attributes; its page still runs no inline script.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")

HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == "/docs" else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                original = message.get("headers", [])
                # A route may tighten the policy (downloads add "sandbox"); keep its directives.
                own = [v for k, v in original if k == b"content-security-policy"]
                policy = b"; ".join([*own, csp.encode()])
                headers = [
                    (k, v)
                    for k, v in original
                    if k not in HEADERS and k != b"content-security-policy"
                ]
                headers.extend(HEADERS.items())
                headers.append((b"content-security-policy", policy))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Sign-in and registration are protected even when the browser sends no cookie (login CSRF).
ALWAYS_PROTECT = {"/login", "/register"}


async def _csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
    detail = "the form's CSRF token is missing or does not match; reload the page and try again"
    if scope["path"].startswith("/api/"):
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "CSRF check failed",
                "status": 403,
                "detail": detail + " (API clients: send `Authorization: Bearer <token>`, or "
                "the csrftoken cookie's value in an `x-csrftoken` header)",
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
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CSRFMiddleware:
    """asgi-csrf (double submit cookie, signed token) as a Starlette middleware class."""

    def __init__(self, app: ASGIApp, *, secret: str, secure: bool) -> None:
        self.app = asgi_csrf(
            app,
            signing_secret=secret,
            always_protect=ALWAYS_PROTECT,
            cookie_secure=secure,
            cookie_samesite="Strict",
            send_csrf_failed=_csrf_failed,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
