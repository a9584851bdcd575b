"""Imports at their edges: references to ids the store lacks are reported, and a database that goes away
mid-import is a clear message with exit code 2 and nothing written (the broken files are in tests/badinput)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from geo.cli import app as cli
from geo.io.importers import import_layer
from geo.stores import Store
from geo.stores.postgis import PostGISStore
from tests.badinput.make_corpus import collection, feature, polygon, seed_collection, square, write_json


def _buildings(*community_ids: str | None) -> dict:
    return collection(
        [
            feature({"id": f"b{i}", "community_id": cid, "households": 6}, polygon(square(i * 20.0, 5.0, 10.0)))
            for i, cid in enumerate(community_ids)
        ]
    )


def test_buildings_naming_unknown_communities_are_imported_with_a_warning(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in ``community_id`` (S9) would silently leave the building out of every analysis: say so.

    Imported all the same, because buildings may come before their communities (totals are derived either way).
    """
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    path = write_json(tmp_path / "b.geojson", _buildings("S1", "S9", None, "S9", "S2"))
    result = CliRunner().invoke(cli, ["import", "buildings", str(path), "--lang", "en"])
    output = " ".join(result.output.split())
    assert result.exit_code == 0, output
    assert "2 rows name a community_id the store does not hold (S9; rows 2, 4)" in output
    assert len(store.read_layer("buildings")) == 5

    clean = write_json(tmp_path / "clean.geojson", _buildings("S3"))
    result = CliRunner().invoke(cli, ["import", "buildings", str(clean), "--lang", "en", "--replace"])
    assert result.exit_code == 0 and "does not hold" not in result.output


@pytest.mark.postgis
def test_postgresql_going_away_mid_import_is_a_message_and_exit_2(
    postgis: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the import's connection while it loads (as a restart or failover would)."""
    store = postgis
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    before = store.fingerprint()
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: store)
    url = store.engine.url.render_as_string(hide_password=False)
    load = PostGISStore._bulk_insert

    def cut_off(self: PostGISStore, conn, layer, frame, geoms) -> None:  # noqa: ANN001 - the store's signature
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        load(self, conn, layer, frame, geoms)

    monkeypatch.setattr(PostGISStore, "_bulk_insert", cut_off)
    path = write_json(tmp_path / "b.geojson", _buildings("S1", "S2"))
    result = CliRunner().invoke(cli, ["import", "buildings", str(path), "--lang", "en"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, f"{output} {result.exception!r}"
    assert "database connection failed or was lost" in output and "run the command again" in output
    assert "Traceback" not in output
    monkeypatch.setattr(PostGISStore, "_bulk_insert", load)
    assert store.fingerprint() == before
