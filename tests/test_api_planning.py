"""Candidate lists and plans over HTTP, on both stores, equal to what the analysis gives directly."""

from __future__ import annotations

import csv
import io

import pytest

from geo.analysis import analyse, load_city, street_candidates
from geo.policy.profiles import load_profile
from geo.stores import Store
from tests.test_api_features import STREET, client_for, load_sample


@pytest.fixture
def city(store: Store) -> Store:
    load_sample(store)
    return store


def test_candidates_json_are_the_streets_ranked_list(city: Store) -> None:
    client = client_for(city)
    records = client.get(f"/streets/{STREET}/candidates", params={"profile": "national-2020"}).json()
    expected = street_candidates(analyse(load_city(city), profile=load_profile("national-2020")), STREET)
    assert [r["community_id"] for r in records] == expected["community_id"].tolist()
    ranked = [r["rank"] for r in records if r["status"] != "excluded"]
    assert ranked == list(range(1, len(ranked) + 1))
    assert all(r["rank"] is None for r in records if r["status"] == "excluded")


def test_candidates_download_as_csv_with_chinese_headers(city: Store) -> None:
    r = client_for(city).get(f"/streets/{STREET}/candidates", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["小区编号", "小区名称"]
    assert len(rows) - 1 == len(client_for(city).get(f"/streets/{STREET}/candidates").json())
    xlsx = client_for(city).get(f"/streets/{STREET}/candidates", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"


def test_unknown_street_or_profile_is_404(city: Store) -> None:
    client = client_for(city)
    r = client.get("/streets/没有这条街道/candidates")
    assert r.status_code == 404 and "detail" in r.json()
    assert client.get(f"/streets/{STREET}/candidates", params={"profile": "atlantis-2099"}).status_code == 404


def test_plans_are_stored_as_versions(city: Store) -> None:
    planner = client_for(city, "planner")
    body = {"name": "2025年度计划", "all": True, "year_from": 2025, "budget_per_year": 30_000_000}
    first = planner.post("/plans", json=body)
    assert first.status_code == 201
    doc = first.json()
    assert doc["version"] == 1 and doc["years"][0]["year"] == 2025
    stored = planner.get(f"/plans/{doc['id']}").json()
    assert stored["years"] == doc["years"]
    assert stored["params"]["budget_per_year"] == 30_000_000
    assert planner.post("/plans", json=body).json()["version"] == 2
    assert planner.post("/plans", json={**body, "streets": [STREET]}).status_code == 422
    assert client_for(city, "viewer").post("/plans", json=body).status_code == 403
    assert planner.get("/plans/9999").status_code == 404
