"""Broken inputs (tests/badinput) are refused with a clear message and leave the store byte-for-byte unchanged.

Imports go through the real command line (``renewal import ... --lang en``): exit code 2, a message naming the
problem and the rows. Requests go through the HTTP API: a 4xx with a JSON ``detail``. Both on SQLite and PostGIS;
``store.fingerprint()`` (every row of every table) is compared before and after each case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from geo.auth import add_user
from geo.cli import app as cli
from geo.io.importers import import_layer
from geo.settings import APISettings
from geo.stores import Store
from tests.badinput.make_corpus import (
    API_MAX_BODY,
    SEED_IDS,
    ApiCase,
    ImportCase,
    api_cases,
    import_cases,
    seed_collection,
    write_json,
)

IMPORT_CASES = import_cases()
API_CASES = api_cases()


def test_the_corpus_is_large_and_its_names_unique() -> None:
    names = [c.name for c in IMPORT_CASES] + [f"api-{c.name}" for c in API_CASES]
    assert len(names) >= 50 and len(set(names)) == len(names)


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Store:
    """The store holding the three seed communities (and nothing else)."""
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    assert sorted(store.read_layer("communities")["id"]) == list(SEED_IDS)
    return store


@pytest.mark.parametrize("case", IMPORT_CASES, ids=lambda c: c.name)
def test_import_of_a_broken_file_exits_2_names_the_problem_and_writes_nothing(
    case: ImportCase, seeded: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("geo.stores.open_store", lambda *a, **k: seeded)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = case.build(corpus)
    before = seeded.fingerprint()
    result = CliRunner().invoke(cli, case.argv(path, corpus))
    message = " ".join(result.output.split())
    assert result.exit_code == 2, f"exit {result.exit_code}: {message[:2000]} {result.exception!r}"
    assert "error" in message and "Traceback" not in message
    for words in case.expect:
        assert words in message, f"{words!r} not in {message[:1500]!r}"
    assert seeded.fingerprint() == before


@pytest.fixture
def api(seeded: Store) -> tuple[TestClient, Store]:
    app = create_app(seeded, settings=APISettings(max_body_bytes=API_MAX_BODY))
    token = add_user(seeded, "fuzz-admin", "admin")
    return TestClient(app, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}), seeded


@pytest.mark.parametrize("case", API_CASES, ids=lambda c: c.name)
def test_a_broken_request_gets_a_json_4xx_and_changes_nothing(
    case: ApiCase, api: tuple[TestClient, Store], request: pytest.FixtureRequest
) -> None:
    client, store = api
    seed = store.read_layer("communities", ids=["S1"])
    fid, version = int(seed["fid"].item()), int(seed["version"].item())
    path = case.path.replace("{fid}", str(fid))
    headers = {k: v.replace("{version}", str(version)) for k, v in case.headers.items()}
    if isinstance(case.body, bytes):
        content, headers = case.body, {**headers, "Content-Type": "application/json"}
    else:
        content = None if case.body is None else json.dumps(case.body, ensure_ascii=False).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
    before = store.fingerprint()
    r = client.request(case.method, path, content=content, headers=headers)
    assert r.status_code in case.status, f"{r.status_code}: {r.text[:800]}"
    assert r.headers["content-type"].startswith("application/json")
    detail = json.dumps(r.json()["detail"], ensure_ascii=False)
    for words in case.expect:
        assert words in detail, f"{words!r} not in {detail[:800]!r}"
    assert store.fingerprint() == before
