"""JSON errors (one shape, :class:`api.schemas.common.ErrorBody`) and the body-size limit.

==========================================  ======  =========================================
raised                                      status  body
==========================================  ======  =========================================
request schema violation                    422     every problem with its field and row
``InvalidDataError`` (library validation)   422     ``to_dict()``: message, column, rows
``UnknownIdError``                          404     message naming the kind and id
``NoModelError``                            503     "no fitted mastery model ... refit"
``NotAvailableError``                       503     "... not available in this build"
body larger than the limit                  413
anything else                               500     a generic message (details only in logs,
                                                    without parameters or bodies)
==========================================  ======  =========================================
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from edu_recsys.exceptions import InvalidDataError, UnknownIdError
from edu_recsys.store.errors import ConflictError, NoModelError, NotAvailableError

__all__ = ["ApiError", "install_error_handlers", "BodySizeLimit", "error_json"]

log = logging.getLogger("api")


class ApiError(Exception):
    """An HTTP error with our JSON body."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        field: str | None = None,
        rows: list[int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": error, "message": message, "field": field, "rows": rows or []}
        self.headers = headers


def error_json(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    body = {
        "error": body["error"],
        "message": body["message"],
        "field": None,
        "rows": [],
        "expected": None,
        "details": [],
        **body,
    }
    return JSONResponse(body, status_code=status, headers=headers)


_ROW_PARTS = ("interactions", "statements", "resources", "students")


def _field_and_row(loc: tuple) -> tuple[str | None, int | None]:
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    row = None
    for i, p in enumerate(parts[:-1]):
        if p in _ROW_PARTS and isinstance(parts[i + 1], int):
            row = parts[i + 1]
            break
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or None, row


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        # a person's browser asking for a page without being signed in: the login page
        accept = request.headers.get("accept", "")
        if exc.status == 401 and request.method == "GET" and "text/html" in accept:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/api/v1/login?next={quote(target)}", status_code=303)
        return error_json(exc.status, exc.body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        details = []
        for e in exc.errors():
            field, row = _field_and_row(tuple(e.get("loc", ())))
            msg = re.sub(r"\s+", " ", str(e.get("msg", "invalid")))
            details.append({"field": field, "row": row, "message": msg})
        first = details[0] if details else {"field": None, "message": "invalid request"}
        n = len(details)
        where = f"{first['field']}: " if first["field"] else ""
        message = f"{n} problem{'s' if n != 1 else ''} in the request; first: {where}"
        message += first["message"]
        rows = sorted({d["row"] for d in details if d["row"] is not None})
        return error_json(
            422,
            {
                "error": "validation_error",
                "message": message,
                "field": first["field"],
                "rows": rows,
                "details": details[:200],
            },
        )

    @app.exception_handler(InvalidDataError)
    async def _invalid(_: Request, exc: InvalidDataError):
        d = exc.to_dict()
        return error_json(
            422,
            {
                "error": d["error"],
                "message": d["message"],
                "field": d["column"],
                "rows": d["rows"],
                "expected": d["expected"],
            },
        )

    @app.exception_handler(UnknownIdError)
    async def _unknown(_: Request, exc: UnknownIdError):
        return error_json(404, {"error": "not_found", "message": str(exc), "field": exc.kind})

    @app.exception_handler(NoModelError)
    async def _no_model(_: Request, exc: NoModelError):
        return error_json(503, {"error": "no_model", "message": str(exc)})

    @app.exception_handler(NotAvailableError)
    async def _not_available(_: Request, exc: NotAvailableError):
        return error_json(503, {"error": "not_available", "message": str(exc)})

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError):
        return error_json(409, {"error": "conflict", "message": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = _CODES.get(exc.status_code, "error")
        return error_json(
            exc.status_code,
            {"error": code, "message": str(exc.detail)},
            getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        # type and route only: messages of database errors can carry row values
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_json(500, {"error": "internal", "message": "internal server error"})


class BodySizeLimit:
    """ASGI middleware: bodies above ``max_bytes`` get 413 before the route sees them.

    Checks ``Content-Length`` first, then counts the bytes of chunked bodies.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        cl = headers.get(b"content-length")
        if cl is not None:
            try:
                n = int(cl)
            except ValueError:
                return await self._reject(send, 400, "bad_request", "invalid Content-Length")
            if n > self.max_bytes:
                return await self._too_large(send)
            if n == 0 or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
                return await self.app(scope, receive, send)
        elif b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        # read (at most max_bytes of) the body, then replay it to the app
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                return await self._too_large(send)
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, send):
        return await self._reject(
            send, 413, "too_large", f"request body larger than {self.max_bytes} bytes"
        )

    async def _reject(self, send, status: int, code: str, message: str):
        import json

        body = json.dumps(
            {
                "error": code,
                "message": message,
                "field": None,
                "rows": [],
                "expected": None,
                "details": [],
            }
        ).encode()
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
