"""The local receivers of the notification benchmark, each run in its own process:
``python -m benchmarks.notify_receivers webhook PORT`` (a bare ASGI app under uvicorn that
answers 204) and ``… smtp PORT`` (an aiosmtpd server that accepts and drops every message)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def webhook(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


class Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        return "250 OK"


async def smtp(port: int) -> None:
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "webhook":
        uvicorn.run(webhook, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        asyncio.run(smtp(port))
