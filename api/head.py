"""``HEAD`` on every GET route: the GET response's status and headers without its body (RFC 9110 §9.3.2).

FastAPI routes declared with ``@router.get`` answer HEAD with 405; clients and link checkers (and the OGC CITE
suite) expect HEAD wherever GET works, so HEAD is served as a GET whose body is dropped on the way out.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Answer ``HEAD`` with the headers of the same ``GET`` and an empty body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
