"""Run one measurement in a fresh process, so its peak memory (RSS) is its own."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from typing import Any


def _child(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    queue.put((elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, result))


def measure(fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Seconds and peak RSS (MiB) of ``fn(*args)`` in a child process, with what it returned."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    elapsed, rss, result = queue.get()
    proc.join()
    return {"seconds": elapsed, "peak_rss_mib": rss, "result": result}


def postgres_url(db: str = "renewal_bench") -> str | None:
    """Create (if needed) a PostGIS database for benchmarks; None when no server is reachable."""
    from sqlalchemy import create_engine, text

    admin = create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": db}).scalar():
                conn.execute(text(f'CREATE DATABASE "{db}"'))
    except Exception:
        return None
    finally:
        admin.dispose()
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{db}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url
