"""Request hygiene for the study server: body size cap, security headers, tokens kept out of logs."""
from __future__ import annotations

import json
import logging
import re

from starlette.exceptions import HTTPException

TOKEN_PATH = re.compile(r"/(r|admin)/[^/?#\s\"']+")


def redact(text: str) -> str:
    """Replace the token in /r/TOKEN/... and /admin/TOKEN/... paths."""
    return TOKEN_PATH.sub(r"/\1/<token>", text)


class RedactTokens(logging.Filter):
    """A logging filter (for uvicorn's loggers) that strips tokens from messages and their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def quiet_tokens_in_logs() -> None:
    """Install the filter on uvicorn's loggers (call after uvicorn configured logging)."""
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


class _TooLarge(HTTPException):
    """Raised while reading a chunked body past the cap; an HTTPException so frameworks pass it on as 413."""

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes gets 413 before the app sees it."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await _reply(send, 400, "bad content-length")
                return
            if int(length) > self.limit:
                await _reply(send, 413, "request body too large")
                return
        seen = 0
        started = False

        async def capped_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reply(send, 413, "request body too large")


async def _reply(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


async def security_headers(request, call_next):
    """No referrer (it would carry the token), no caching of pages, no framing, no sniffing."""
    response = await call_next(request)
    response.headers.setdefault("cache-control", "no-store")
    response.headers["referrer-policy"] = "no-referrer"
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["x-frame-options"] = "DENY"
    response.headers["content-security-policy"] = CSP
    return response
