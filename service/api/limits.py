"""Request body size limit, enforced before a handler reads anything.

A declared ``Content-Length`` over the limit is answered 413 at once; a body
without one (chunked) is counted as it streams in and cut off with the same
status when it passes the limit, so no handler ever buffers more than the limit.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def too_large(size: int | None, limit: int) -> str:
    """The 413 detail.

    >>> too_large(2097152, 1048576)
    'request body of 2097152 bytes exceeds the limit of 1048576 bytes'
    >>> too_large(None, 1048576)
    'request body exceeds the limit of 1048576 bytes'
    """
    size_text = f" of {size} bytes" if size is not None else ""
    return f"request body{size_text} exceeds the limit of {limit} bytes"


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _reply(send, 400, "Content-Length is not a number")
                return
            if size > self.max_bytes:
                await _reply(send, 413, too_large(size, self.max_bytes))
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException passes through FastAPI's body parsing unchanged.
                    raise HTTPException(413, too_large(None, self.max_bytes))
            return message

        await self.app(scope, limited, send)


async def _reply(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
