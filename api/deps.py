"""Request dependencies: the store, and who is calling with which role.

Callers authenticate with ``Authorization: Bearer TOKEN`` or, for clients that only speak HTTP Basic (QGIS
authentication configurations, GDAL, OWSLib, curl ``-u``), ``Authorization: Basic`` with the user name and the
token as password. Both look the token up by its digest and give the same user and role.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request

from geo.auth import User, user_for_credentials, user_for_token
from geo.settings import APISettings
from geo.stores import Store

ANONYMOUS = User(name="anonymous", role="viewer")
#: The challenge sent with every 401, so clients that speak Basic (QGIS, browsers, curl) ask for credentials.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="renewal", charset="UTF-8"'}


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> APISettings:
    return request.app.state.settings


def _basic(value: str) -> tuple[str, str] | None:
    """User name and password of a Basic credential (UTF-8, or Latin-1 as older clients send), or None."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    name, colon, password = text.partition(":")
    return (name, password) if colon and password else None


def current_user(request: Request) -> User | None:
    """The user of a Bearer token or Basic credentials, the anonymous viewer when allowed, or None.

    Credentials that are sent but do not match are a 401 even when anonymous reading is on: a mistyped token
    should be noticed, not silently read as anonymous.
    """
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and credential.strip():
        user = user_for_token(get_store(request), credential.strip())
        if user is None:
            raise HTTPException(
                401, "令牌无效 / invalid token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return user
    if scheme == "basic":
        pair = _basic(credential)
        user = None if pair is None else user_for_credentials(get_store(request), *pair)
        if user is None:
            raise HTTPException(401, "用户名或令牌无效 / invalid user name or token", headers=CHALLENGE)
        return user
    if header:
        raise HTTPException(
            401, "请使用 Bearer 令牌或 Basic 认证 / use a Bearer token or Basic authentication", headers=CHALLENGE
        )
    return ANONYMOUS if get_settings(request).anonymous_read else None


def require(role: str) -> Callable[..., User]:
    """A dependency that lets through users holding ``role`` (or stronger): 401 without a token, 403 too weak."""

    def check(user: Annotated[User | None, Depends(current_user)]) -> User:
        if user is None:
            raise HTTPException(401, "需要登录令牌 / authentication required", headers=CHALLENGE)
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
