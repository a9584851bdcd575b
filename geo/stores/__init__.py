"""Stores: :func:`open_store` picks SQLite (embedded default) or PostGIS from ``RENEWAL_DATABASE_URL``."""

from __future__ import annotations

from geo.errors import RenewalError
from geo.settings import database_settings
from geo.stores.base import Store


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default create or upgrade) the store at ``url`` or the configured one."""
    settings = database_settings()
    url = url or settings.url
    if url.startswith("sqlite"):
        from geo.stores.sqlite import SQLiteStore

        store: Store = SQLiteStore(url)
    elif url.startswith("postgresql"):
        from geo.stores.postgis import PostGISStore

        store = PostGISStore(url, statement_timeout_ms=settings.statement_timeout_ms, pool_size=settings.pool_size)
    else:
        raise RenewalError(f"不支持的数据库地址：{url}", f"unsupported database URL: {url}")
    if migrate:
        store.migrate()
    return store


__all__ = ["Store", "open_store"]
