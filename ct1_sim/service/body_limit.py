"""A hard cap on request body bytes as they stream in, so bodies without a ``Content-Length`` (chunked uploads)
cannot fill memory or disk before the handler's own size checks run."""

from __future__ import annotations

import json
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Pure ASGI middleware: a request whose body exceeds ``max_bytes`` gets 413 (the body is not read further).

    The error is raised from ``receive``, so FastAPI's form parsing turns it into a JSON 413; if the app has not
    started a response by then, this middleware sends the 413 itself.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def error(self) -> HTTPException:
        return HTTPException(status_code=413, detail={"field": "body", "message":
                             f"body: request exceeds the {self.max_bytes}-byte upload limit"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self.error()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as err:
            if started or err.status_code != 413:
                raise
            await _send_json(send, 413, {"detail": err.detail})


async def _send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
