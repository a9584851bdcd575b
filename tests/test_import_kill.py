"""An import killed with SIGKILL half-way leaves no trace: no rows, no dropped index, nothing (both stores).

``renewal import buildings big.gpkg`` (100,000 generated buildings) runs as a child process against the test store
and is killed while it writes: on PostGIS once the server shows its ``COPY buildings`` running, on SQLite once its
write-ahead log has grown (rows are going in). The store must then equal what it was before, byte for byte
(`Store.fingerprint`), and its indexes and triggers too: the import drops the spatial index inside its
transaction and rebuilds it at the end, so a kill in between must not leave the layer without it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from geo.stores import Store
from geo.synthetic.city import make_city

BUILDINGS = 100_000
APP_NAME = "renewal-import-kill-test"
#: The child must be seen writing within this many seconds of its start (it takes ~7 s in all here).
WRITE_DEADLINE = 60.0
WAL_BYTES_WRITING = 1_000_000


@pytest.fixture(scope="module")
def big_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "big.gpkg"
    make_city(n_communities=30_000, n_buildings=BUILDINGS)["buildings"].to_file(path, driver="GPKG")
    return path


def _schema_objects(store: Store) -> list[tuple[str, ...]]:
    """Indexes, constraints and triggers of the buildings layer (what the import drops and rebuilds)."""
    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            sql = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name LIKE 'buildings%' ORDER BY type, name"
        else:
            sql = (
                "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE tablename = 'buildings' UNION ALL "
                "SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'buildings'::regclass ORDER BY 1, 2"
            )
        return [tuple(map(str, row)) for row in conn.execute(text(sql))]


def _writing(store: Store, db_file: Path | None) -> bool:
    """Whether the child is in the middle of writing rows."""
    if db_file is not None:
        wal = Path(f"{db_file}-wal")
        return wal.exists() and wal.stat().st_size > WAL_BYTES_WRITING
    with store.engine.connect() as conn:
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND state = 'active' "
            "AND query ILIKE 'COPY buildings%'"
        )
        return bool(conn.execute(text(sql), {"app": APP_NAME}).scalar())


def _wait_backend_gone(store: Store) -> None:
    """PostgreSQL notices the dead client on its next read; wait until it has rolled back and left."""
    deadline = time.monotonic() + 30
    with store.engine.connect() as conn:
        while conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"), {"app": APP_NAME}
        ).scalar():
            assert time.monotonic() < deadline, "the killed import's backend is still there after 30 s"
            time.sleep(0.1)
            conn.rollback()


def test_an_import_killed_half_way_writes_nothing(store: Store, big_gpkg: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    db_file = Path(store.engine.url.database) if store.dialect == "sqlite" else None
    before, objects = store.fingerprint(), _schema_objects(store)
    env = {**os.environ, "RENEWAL_DATABASE_URL": url, "PGAPPNAME": APP_NAME}
    cmd = [sys.executable, "-c", "from geo.cli import app; app()", "import", "buildings", str(big_gpkg)]
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started = time.monotonic()
    try:
        while not _writing(store, db_file):
            assert child.poll() is None, f"the import ended before it could be killed: {child.stdout.read()!r}"
            assert time.monotonic() - started < WRITE_DEADLINE, "the import never started writing"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if db_file is None:
        _wait_backend_gone(store)
    assert store.counts()["buildings"] == 0
    assert store.fingerprint() == before
    assert _schema_objects(store) == objects
