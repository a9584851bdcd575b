"""Request dependencies: the store, and who is calling with which role."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Path, Request

from geo.auth import User, user_for_token
from geo.io.normalise import INT_LIMIT
from geo.settings import APISettings
from geo.stores import Store

ANONYMOUS = User(name="anonymous", role="viewer")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> APISettings:
    return request.app.state.settings


def current_user(request: Request) -> User | None:
    """The user of the bearer token, the anonymous viewer when allowed, or None; a bad token is a 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = user_for_token(get_store(request), token.strip())
        if user is None:
            raise HTTPException(401, "令牌无效 / invalid token", headers={"WWW-Authenticate": "Bearer"})
        return user
    if header:
        raise HTTPException(401, "请使用 Bearer 令牌 / use a Bearer token", headers={"WWW-Authenticate": "Bearer"})
    return ANONYMOUS if get_settings(request).anonymous_read else None


def require(role: str) -> Callable[..., User]:
    """A dependency that lets through users holding ``role`` (or stronger): 401 without a token, 403 too weak."""

    def check(user: Annotated[User | None, Depends(current_user)]) -> User:
        if user is None:
            raise HTTPException(401, "需要登录令牌 / authentication required", headers={"WWW-Authenticate": "Bearer"})
        if not user.can(role):
            raise HTTPException(403, f"需要 {role} 角色 / the {role} role is required")
        return user

    return check


viewer = require("viewer")
planner = require("planner")
admin = require("admin")

StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[APISettings, Depends(get_settings)]
Viewer = Annotated[User, Depends(viewer)]
Planner = Annotated[User, Depends(planner)]
Admin = Annotated[User, Depends(admin)]

#: Feature and plan numbers in URLs: positive 64-bit integers (larger ones are a 422, not an overflow).
FeatureId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def query_number(key: str, raw: str, kind: Literal["int", "float"]) -> int | float:
    """A numeric query value: a finite number (an integer within 64 bits for ``int``), else 400 naming ``key``.

    A larger integer could match nothing a column holds, and SQLite's driver cannot even bind it.
    """
    try:
        value: int | float = int(raw) if kind == "int" else float(raw)
    except ValueError:
        raise HTTPException(400, f"{key} 应为数字 / {key} must be a number: {raw}") from None
    if (kind == "int" and abs(value) >= INT_LIMIT) or (kind == "float" and not math.isfinite(value)):
        raise HTTPException(400, f"{key} 超出范围 / {key} is out of range: {raw}")
    return value
