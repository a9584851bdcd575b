"""The API's boundaries as an attacker or a careless client meets them (both stores).

``?profile=`` never names a file on the server (no contents echoed, existing and missing paths answered alike); a
chunked body past the limit is 413; headers that are not versions are 412; a database error answered 500 leaves a
trace in the log; the Gauss–Krüger zone offered follows the data at once. The one-value-per-case refusals are in
the bad-input corpus (tests/badinput, tests/test_bad_inputs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import ProgrammingError

from api.app import create_app
from geo.auth import add_user
from geo.io.importers import import_layer
from geo.policy.profiles import list_profiles
from geo.settings import APISettings
from geo.stores import Store
from tests.badinput.make_corpus import GK_EPSG, feature, polygon, seed_collection, square, write_json

#: Something no answer may ever contain: it is only in the file the requests name.
SECRET = "SECRET-LINE-7f3a9"


def _client(store: Store, **settings: object) -> TestClient:
    token = add_user(store, "safety-admin", "admin")
    app = create_app(store, settings=APISettings(**settings))
    return TestClient(app, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Store:
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    return store


def _profile_requests(fid: int, value: str) -> Iterator[tuple[str, str, dict | None]]:
    """Every route that takes a profile, with ``value`` as the profile."""
    yield "GET", f"/collections/units/items?profile={value}", None
    yield "GET", f"/streets/x/candidates?profile={value}", None
    yield "GET", f"/maps/plan.html?profile={value}", None
    yield "GET", f"/maps/progress.html?profile={value}", None
    yield "POST", "/plans", {"name": "p", "all": True, "profile": value}
    yield "POST", f"/communities/{fid}/stages?profile={value}", {"stage": "survey", "date": "2026-03-01"}


def test_a_profile_is_a_registry_id_never_a_file(seeded: Store, tmp_path: Path) -> None:
    """An existing file (a valid mapping, even a copy of a real profile) and a missing one get the same 404."""
    client = _client(seeded)
    secret = tmp_path / "secret.yaml"
    secret.write_text(f"id: national-2020\nnote: {SECRET}\n", encoding="utf-8")
    fid = int(seeded.read_layer("communities", ids=["S1"])["fid"].item())
    before = seeded.fingerprint()
    for existing, missing in zip(
        _profile_requests(fid, str(secret)), _profile_requests(fid, str(tmp_path / "missing.yaml")), strict=True
    ):
        answers = [client.request(m, path, json=body) for m, path, body in (existing, missing)]
        assert [a.status_code for a in answers] == [404, 404], [a.text[:300] for a in answers]
        details = [a.json()["detail"] for a in answers]
        assert SECRET not in answers[0].text
        assert all(pid in details[0] for pid in list_profiles())
        assert details[0].replace("secret", "missing") == details[1]  # nothing tells the two apart
    assert seeded.fingerprint() == before


def test_a_chunked_body_past_the_limit_is_413(seeded: Store) -> None:
    """50 MB sent without Content-Length (chunked) is refused while it streams in, not parsed into a 400."""
    client = _client(seeded, max_body_bytes=2 * 1024 * 1024)
    before = seeded.fingerprint()

    def chunks() -> Iterator[bytes]:
        yield b'{"type":"Feature","properties":{"name":"'
        for _ in range(50):
            yield b"x" * (1024 * 1024)
        yield b'"}}'

    r = client.post(
        "/collections/communities/items", content=chunks(), headers={"Content-Type": "application/geo+json"}
    )
    assert r.status_code == 413, r.text[:300]
    assert "too large" in r.json()["detail"]
    assert seeded.fingerprint() == before


@pytest.mark.parametrize("etag", ['"²"', '"１"', '"99999999999999999999999"', 'W/"-1"'])
def test_if_match_that_is_not_a_version_is_412(seeded: Store, etag: str) -> None:
    client = _client(seeded)
    fid = int(seeded.read_layer("communities", ids=["S1"])["fid"].item())
    before = seeded.fingerprint()
    r = client.patch(
        f"/collections/communities/items/{fid}",
        json={"properties": {"households": 1}},
        headers={"If-Match": etag.encode("utf-8")},
    )
    assert r.status_code == 412, r.text[:300]
    assert seeded.fingerprint() == before


def test_a_database_error_answered_500_is_logged(
    seeded: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(seeded)
    fid = int(seeded.read_layer("communities", ids=["S1"])["fid"].item())

    def broken(*_a: object, **_k: object) -> None:
        raise ProgrammingError("SELECT broken", {}, Exception("relation is missing"))

    monkeypatch.setattr("geo.editing.history", broken)
    with caplog.at_level(logging.ERROR, logger="renewal.api"):
        r = client.get(f"/communities/{fid}/history")
    assert r.status_code == 500 and r.json() == {"detail": "服务器内部错误 / internal server error"}
    [record] = [rec for rec in caplog.records if rec.name == "renewal.api"]
    assert f"500 GET /communities/{fid}/history" in record.getMessage()
    assert "relation is missing" in record.getMessage() and record.exc_info is not None


def test_the_gk_zone_offered_follows_the_data_at_once(store: Store, tmp_path: Path) -> None:
    """An empty store offers the default zone; once filled, its data's zone, on the very next request."""
    client = _client(store)
    zone_uri = f"http://www.opengis.net/def/crs/EPSG/0/{GK_EPSG}"
    assert zone_uri not in client.get("/collections").json()["collections"][0]["crs"]
    import_layer(store, "communities", write_json(tmp_path / "seed.geojson", seed_collection()))
    assert zone_uri in client.get("/collections").json()["collections"][0]["crs"]
    # the case that failed depending on test order: degrees declared as the data's GK zone
    before = store.fingerprint()
    r = client.post(
        "/collections/communities/items",
        json=feature({"name": "度数"}, polygon(square(0, 300))),
        headers={"Content-Crs": f"<{zone_uri}>"},
    )
    assert r.status_code in (400, 422) and "outside China" in r.json()["detail"], r.text[:300]
    assert store.fingerprint() == before
