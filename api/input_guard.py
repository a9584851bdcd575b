"""Refuse request input no store can keep, before any route sees it, naming where it is.

Python's JSON parser accepts ``NaN``, ``Infinity`` and ``1e999`` (which it reads as infinity) and integers of any
size; a PostgreSQL text or JSON value cannot hold a NUL character, and no database driver can encode a lone UTF-16
surrogate (``"\\ud800"``). Each of these, let through, is either committed and then served as JSON no browser can
parse, or a database error answered with 500 after the write. So: a JSON body holding any of them anywhere is a 422
naming the field (``properties.households``); a query string or path holding a NUL or a lone surrogate is a 400.
Malformed JSON is left to FastAPI, which answers it with its own 422.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import request_lang
from geo.io.normalise import INT_LIMIT, text_problem

#: Problems quoted in one refusal.
MAX_SHOWN = 5
_BODY_METHODS = {"POST", "PUT", "PATCH"}
#: What any value this module refuses must look like in the JSON text: a NUL or surrogate escape, a non-finite
#: constant, an exponent of three digits or a run of 19 digits (every overflowing number has one of the two). A
#: body without any (nearly all) is let through without parsing it here; one with them is parsed and walked.
_SUSPECT = re.compile(rb"\\u0000|\\u[dD][89a-fA-F]|NaN|Infinity|[eE][+]?[0-9]{3}|[0-9]{19}")


class _Token(str):
    """A number the body spells that no store can keep (``NaN``, ``Infinity``, an integer of 30 digits)."""


def _constant(text: str) -> _Token:
    return _Token(text)


def _integer(text: str) -> int | _Token:
    # Long digit strings are kept as text: int() of 10^5 digits is slow and Python refuses it past 4,300.
    return _Token(text) if len(text) > 20 else int(text)


def _walk(doc: Any) -> Iterator[tuple[str, str, str]]:
    """``(path, zh, en)`` for every value of ``doc`` no store can keep, depth first, without recursion."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        where = path or "(body)"
        if isinstance(value, _Token) and value.lstrip("-")[:1].isdigit():
            shown = f"{value[:20]}…({len(value)} chars)"
            yield where, f"{shown} 超出 64 位整数范围", f"{shown} is beyond the 64-bit integer range"
        elif isinstance(value, _Token):
            yield where, f"{value} 不是有限的数字", f"{value} is not a finite number"
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                yield where, *problem
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) >= INT_LIMIT:
                yield where, f"{value} 超出 64 位整数范围", f"{value} is beyond the 64-bit integer range"
        elif isinstance(value, float):
            if not math.isfinite(value):
                yield (
                    where,
                    "不是有限的数字（过大或为 Infinity/NaN）",
                    "is not a finite number (too large, or Infinity/NaN)",
                )
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                child = f"{path}.{key}" if path else str(key)
                if text_problem(key):
                    yield child, "属性名含有 NUL 或无效字符", "the property name holds a NUL or invalid character"
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in reversed(list(enumerate(value))))


def body_problems(body: bytes) -> list[tuple[str, str, str]]:
    """What in a JSON body no store can keep, as ``(field path, zh, en)``; empty when nothing (or not JSON)."""
    if b"\x00" not in body and not _SUSPECT.search(body):  # raw NULs: UTF-16/32 text, which the regex cannot read
        return []
    try:
        doc = json.loads(body, parse_constant=_constant, parse_int=_integer)
    except (ValueError, RecursionError):
        return []  # not JSON (or nested too deep): FastAPI refuses it with its own message
    return list(_walk(doc))


def url_problems(scope: Scope) -> list[tuple[str, str, str]]:
    """Query parameters and path segments holding a NUL or a lone surrogate, as ``(where, zh, en)``."""
    out = []
    if text_problem(scope.get("path", "")):
        out.append(("path", "网址路径含有 NUL 或无效字符", "the URL path holds a NUL or invalid character"))
    query = scope.get("query_string", b"").decode("latin-1")
    for key, value in parse_qsl(query, keep_blank_values=True):
        if text_problem(key) or text_problem(value):
            out.append((key, "查询参数含有 NUL 或无效字符", "the query parameter holds a NUL or invalid character"))
    return out


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would read this body as JSON (no content type, ``application/json``, ``…+json``)."""
    value = dict(scope.get("headers") or []).get(b"content-type")
    if value is None:
        return True
    kind = value.decode("latin-1").split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class InputGuard:
    """ASGI middleware: 400 for a NUL in the URL, 422 for a JSON body value no store can keep; else pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = url_problems(scope)
        if problems:
            await _refuse(scope, send, 400, problems)
            return
        if scope["method"] not in _BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client left; let the app see the disconnect
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problems = body_problems(body)
        if problems:
            await _refuse(scope, send, 422, problems)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, status: int, problems: list[tuple[str, str, str]]) -> None:
    en = request_lang(Request(scope)) == "en"
    shown = [f"{where}: {e if en else z}" for where, z, e in problems[:MAX_SHOWN]]
    more = len(problems) - MAX_SHOWN
    if more > 0:
        shown.append(f"+{more} more" if en else f"另有 {more} 处")
    lead = "the request holds values no store can keep" if en else "请求中有无法保存的值"
    body = json.dumps({"detail": f"{lead}: " + "; ".join(shown)}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
