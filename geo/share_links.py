"""Share links: a read-only link to one map page that a leader opens on any browser or phone without a token.

A planner makes a link for the plan or the progress map (optionally one street, one saved plan); the link carries
a random secret, shown once when the link is made, and the store keeps only its SHA-256 digest, as it does for
users' tokens (:mod:`geo.auth`): a copy of the database does not open any map. A link opens that one page and
nothing else, stops working when it expires, and can be revoked at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from geo.auth import hash_token
from geo.errors import DataError, NotFoundError
from geo.plan_store import check_plan_profile, find_plan
from geo.policy.profiles import load_profile
from geo.stores import Store

SHARE_KINDS = ("plan", "progress")
DEFAULT_DAYS = 14
MAX_DAYS = 365


class LinkGoneError(NotFoundError):
    """The link existed but has expired or been revoked."""


def _utc(value: Any) -> dt.datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite hands back naive ones, written in UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def now_utc() -> dt.datetime:
    """Now, in UTC to the second (what links store and compare)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ShareLink:
    """One share link (never its secret): what it shows, who made it, until when it works."""

    link_id: int
    kind: str
    street: str | None
    profile: str | None
    plan_id: int | None
    lang: str
    created_by: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None

    def state(self, at: dt.datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if (at or now_utc()) >= self.expires_at else "active"

    def record(self) -> dict[str, Any]:
        """The link as JSON-ready fields (API and CLI listing)."""
        return {
            "id": self.link_id,
            "kind": self.kind,
            "street": self.street,
            "profile": self.profile,
            "plan": self.plan_id,
            "lang": self.lang,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "state": self.state(),
        }


def _link(row: Any) -> ShareLink:
    return ShareLink(
        link_id=int(row.link_id),
        kind=row.kind,
        street=row.street,
        profile=row.profile,
        plan_id=None if row.plan_id is None else int(row.plan_id),
        lang=row.lang,
        created_by=row.created_by,
        created_at=_utc(row.created_at),  # type: ignore[arg-type]
        expires_at=_utc(row.expires_at),  # type: ignore[arg-type]
        revoked_at=_utc(row.revoked_at),
        revoked_by=row.revoked_by,
    )


def _street_names(store: Store) -> list[str]:
    names = store.read_attributes("streets", ["name"])["name"].dropna().tolist()
    names += [
        s for s in store.read_attributes("communities", ["street"])["street"].dropna().unique() if s not in names
    ]
    return names


def create_share(
    store: Store,
    *,
    kind: str,
    actor: str,
    street: str | None = None,
    days: int = DEFAULT_DAYS,
    profile: str | None = None,
    plan_id: int | None = None,
    lang: str = "zh",
) -> tuple[ShareLink, str]:
    """Make a link to the ``kind`` map and return it with its secret (the only time the secret can be seen).

    Raises
    ------
    DataError
        Unknown kind or language, or ``days`` outside 1–365.
    NotFoundError
        Unknown street, profile or plan.
    """
    if kind not in SHARE_KINDS:
        raise DataError(f"地图类型应为 plan 或 progress：{kind}", f"map kind must be plan or progress: {kind}")
    if lang not in ("zh", "en"):
        raise DataError(f"语言应为 zh 或 en：{lang}", f"language must be zh or en: {lang}")
    if not 1 <= days <= MAX_DAYS:
        raise DataError(
            f"有效天数应在 1 到 {MAX_DAYS} 之间：{days}", f"days must be between 1 and {MAX_DAYS}: {days}"
        )
    if street is not None:
        names = _street_names(store)
        if street not in names:
            raise NotFoundError(
                f"没有街道“{street}”（本市街道：{'、'.join(names)}）",
                f"no street {street!r} (the city's streets: {', '.join(names)})",
            )
    shown = None if profile is None else load_profile(profile)
    if plan_id is not None:
        saved = find_plan(store, plan_id=plan_id)
        if shown is not None:
            check_plan_profile(saved, shown)
    secret = secrets.token_urlsafe(18)
    created = now_utc()
    values = {
        "token_hash": hash_token(secret),
        "kind": kind,
        "street": street,
        "profile": profile,
        "plan_id": plan_id,
        "lang": lang,
        "created_by": actor,
        "created_at": created,
        "expires_at": created + dt.timedelta(days=days),
    }
    table = store.tables["share_links"]
    with store.begin() as conn:
        link_id = conn.execute(table.insert().values(**values)).inserted_primary_key[0]
        row = conn.execute(select(table).where(table.c.link_id == link_id)).one()
    return _link(row), secret


def list_shares(store: Store) -> list[ShareLink]:
    """Every link, newest first (revoked and expired ones too, so a planner sees what is still out there)."""
    table = store.tables["share_links"]
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.link_id.desc())).all()
    return [_link(r) for r in rows]


def revoke_share(store: Store, link_id: int, *, actor: str) -> ShareLink:
    """Stop link ``link_id`` from working, at once (revoking a revoked link keeps the first revocation)."""
    table = store.tables["share_links"]
    with store.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.link_id == link_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now_utc(), revoked_by=actor)
        )
        row = conn.execute(select(table).where(table.c.link_id == link_id)).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {link_id} 的分享链接", f"no share link {link_id}")
    return _link(row)


def share_for_secret(store: Store, secret: str) -> ShareLink:
    """The active link a secret opens.

    Raises
    ------
    NotFoundError
        No link has this secret.
    LinkGoneError
        The link has expired or was revoked.
    """
    table = store.tables["share_links"]
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.token_hash == hash_token(secret))).first()
    if row is None:
        raise NotFoundError("分享链接无效", "unknown share link")
    link = _link(row)
    state = link.state()
    if state != "active":
        raise LinkGoneError(
            "此分享链接已撤销，请向规划人员索取新链接"
            if state == "revoked"
            else "此分享链接已过期，请向规划人员索取新链接",
            "this share link was revoked; ask the planner for a new one"
            if state == "revoked"
            else "this share link has expired; ask the planner for a new one",
        )
    return link
