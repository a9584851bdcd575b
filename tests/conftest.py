"""Shared fixtures: the same tests run on the embedded SQLite store and on PostGIS.

PostGIS comes from ``RENEWAL_TEST_POSTGIS_URL`` (default: the local server; each session creates and drops a
database of its own named after that URL's database). Without a server the PostGIS runs are skipped locally, but
under ``CI=true`` an unavailable PostGIS fails the run.
"""

from __future__ import annotations

import atexit
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text

from geo.stores import Store, open_store

POSTGIS_URL = os.environ.get("RENEWAL_TEST_POSTGIS_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/renewal_test")
ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    """The project's shared folder (seeds, real data): beside this checkout, or beside the repository it was
    cloned from (CI runs a clean clone in a temporary folder), or where ``RENEWAL_SHARED_DIR`` says."""
    candidates = [os.environ.get("RENEWAL_SHARED_DIR"), ROOT.parent / "shared"]
    try:
        origin = subprocess.run(
            ["git", "-C", str(ROOT), "config", "--get", "remote.origin.url"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        origin = ""
    if origin and "://" not in origin:
        candidates.append(Path(origin).resolve().parent / "shared")
    for candidate in candidates:
        if candidate and (Path(candidate) / "realdata").is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = _shared_dir()
REALDATA = SHARED / "realdata"
SAMPLE = ROOT / "data" / "boundaries"

_postgis: Store | None = None
_postgis_error: str | None = None


def _session_database() -> str:
    """A database of this test session's own (parallel test runs must not truncate each other's tables)."""
    base = make_url(POSTGIS_URL)
    name = f"{base.database}_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    atexit.register(_drop_database, base, name)
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_database(base: URL, name: str) -> None:
    if _postgis is not None:
        _postgis.dispose()
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def postgis_store() -> Store:
    """The session's PostGIS store (migrated once), or skip/fail when there is none."""
    global _postgis, _postgis_error
    if _postgis is None and _postgis_error is None:
        try:
            _postgis = open_store(_session_database())
        except Exception as exc:  # any connection or extension failure means "no PostGIS here"
            _postgis_error = f"{type(exc).__name__}: {exc}"
    if _postgis is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostGIS unavailable under CI=true: {_postgis_error}")
        pytest.skip(f"PostGIS unavailable: {_postgis_error}")
    return _postgis


def _truncate(store: Store) -> None:
    with store.begin() as conn:
        names = ", ".join(t.name for t in reversed(store.metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind."""
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")
        yield s
        s.dispose()
    else:
        s = postgis_store()
        _truncate(s)
        yield s


@pytest.fixture
def both_stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """An empty SQLite store and an empty PostGIS store, for results that must be identical."""
    sqlite = open_store(f"sqlite:///{tmp_path / 'both.sqlite'}")
    pg = postgis_store()
    _truncate(pg)
    yield sqlite, pg
    sqlite.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Store | str], None]]:
    """The command line as a planner runs it: from a folder of its own (``tmp_path``), with no store and no
    profile in the environment. Call it with a store (or a database URL) to point the command line at it."""
    from geo import settings

    def use(target: Store | str) -> None:
        url = target if isinstance(target, str) else target.engine.url.render_as_string(hide_password=False)
        monkeypatch.setenv("RENEWAL_DATABASE_URL", url)
        settings.database_settings.cache_clear()

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RENEWAL_DATABASE_URL", raising=False)
    monkeypatch.delenv("RENEWAL_PROFILE", raising=False)
    settings.database_settings.cache_clear()
    settings.policy_settings.cache_clear()
    yield use
    settings.database_settings.cache_clear()
    settings.policy_settings.cache_clear()


@pytest.fixture
def postgis() -> Store:
    """An empty PostGIS store alone, for behaviour only PostGIS has (row locks under READ COMMITTED, sequences)."""
    s = postgis_store()
    _truncate(s)
    return s
