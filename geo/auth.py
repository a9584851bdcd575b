"""Users, roles and API tokens.

A token is shown once, when it is made, and only its SHA-256 digest is stored: a copy of the database does not let
anyone call the API. Tokens are 32 random bytes (``secrets.token_urlsafe``), so a plain digest without salt or
stretching is enough; a slow hash would only slow down every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from geo.errors import ConflictError, DataError, NotFoundError
from geo.stores import Store

#: Roles in increasing power: each may do everything the ones before it may.
ROLES: tuple[str, ...] = ("viewer", "planner", "admin")


@dataclass(frozen=True)
class User:
    """Who made a request, and what they may do."""

    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user holds ``role`` or a stronger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what the ``users`` table keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise DataError(
            f"未知角色：{role}（可选：{'、'.join(ROLES)}）", f"unknown role: {role} (one of: {', '.join(ROLES)})"
        )


def add_user(store: Store, name: str, role: str) -> str:
    """Create user ``name`` with ``role`` and return their new token (the only time it can be seen).

    Raises
    ------
    DataError
        Unknown role or empty name.
    ConflictError
        The name is taken (use `rotate_token` to give an existing user a new token).
    """
    _check_role(role)
    if not name.strip():
        raise DataError("用户名不能为空", "user name must not be empty")
    token = secrets.token_urlsafe(32)
    table = store.tables["users"]
    with store.begin() as conn:
        if conn.execute(select(table.c.name).where(table.c.name == name)).first() is not None:
            raise ConflictError(f"用户已存在：{name}", f"user already exists: {name}")
        conn.execute(table.insert().values(name=name, role=role, token_hash=hash_token(token)))
    return token


def rotate_token(store: Store, name: str) -> str:
    """Give user ``name`` a new token; the old one stops working at once."""
    token = secrets.token_urlsafe(32)
    table = store.tables["users"]
    with store.begin() as conn:
        done = conn.execute(update(table).where(table.c.name == name).values(token_hash=hash_token(token)))
        if done.rowcount == 0:
            raise NotFoundError(f"没有用户：{name}", f"no such user: {name}")
    return token


def set_role(store: Store, name: str, role: str) -> None:
    """Change what user ``name`` may do."""
    _check_role(role)
    table = store.tables["users"]
    with store.begin() as conn:
        if conn.execute(update(table).where(table.c.name == name).values(role=role)).rowcount == 0:
            raise NotFoundError(f"没有用户：{name}", f"no such user: {name}")


def remove_user(store: Store, name: str) -> None:
    """Delete user ``name``; their token stops working."""
    table = store.tables["users"]
    with store.begin() as conn:
        if conn.execute(delete(table).where(table.c.name == name)).rowcount == 0:
            raise NotFoundError(f"没有用户：{name}", f"no such user: {name}")


def list_users(store: Store) -> list[User]:
    """Every user with their role (never their token), by name."""
    table = store.tables["users"]
    with store.engine.connect() as conn:
        rows = conn.execute(select(table.c.name, table.c.role).order_by(table.c.name)).all()
    return [User(name=r.name, role=r.role) for r in rows]


def user_for_token(store: Store, token: str) -> User | None:
    """The user a bearer token belongs to, or None for an unknown token."""
    table = store.tables["users"]
    with store.engine.connect() as conn:
        row = conn.execute(select(table.c.name, table.c.role).where(table.c.token_hash == hash_token(token))).first()
    return None if row is None else User(name=row.name, role=row.role)


def user_for_credentials(store: Store, name: str, token: str) -> User | None:
    """The user of HTTP Basic credentials (user name, token as password), or None when they do not match.

    The token is the secret and is looked up by its digest exactly as a bearer token is; the name must be the
    token's user. QGIS up to 3.28 encodes Basic credentials as Latin-1, so a Chinese name arrives with ``?`` for
    every character outside Latin-1: that spelling of the token's user's name is accepted too.
    """
    user = user_for_token(store, token)
    if user is None:
        return None
    latin1 = user.name.encode("latin-1", "replace").decode("latin-1")
    return user if name in (user.name, latin1) else None
