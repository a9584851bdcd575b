"""Progress and map routes: stage moves refused with the rule, history with corrections, offline map pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from geo.stores import Store
from tests.test_api_features import client_for, load_sample


@pytest.fixture
def city(store: Store) -> Store:
    load_sample(store)
    return store


def test_stage_moves_are_checked_and_corrections_are_new_events(city: Store) -> None:
    planner = client_for(city, "planner")
    fid = int(city.read_layer("communities", filters={"id": "C0001"})["fid"].iloc[0])
    url = f"/communities/{fid}/stages?profile=chuxiong-2020"
    assert planner.post(url, json={"stage": "survey", "date": "2026-03-02"}).status_code == 201
    short = {
        "stage": "consent_1",
        "date": "2026-04-01",
        "households_agree": 39,
        "households_total": 60,
        "publicity_start": "2026-04-02",
        "publicity_end": "2026-04-08",
    }
    refused = planner.post(url, json=short)
    assert refused.status_code == 409
    assert "2/3" in refused.json()["detail"] and "楚市政办通〔2020〕5号" in refused.json()["detail"]
    ok = planner.post(url, json=short | {"households_agree": 40})  # exactly 2/3
    assert ok.status_code == 201, ok.text
    fix = planner.post(
        url, json=short | {"households_agree": 41, "corrects": ok.json()["event_id"], "note": "recount"}
    )
    assert fix.status_code == 201
    events = client_for(city, "viewer").get(f"/communities/{fid}/stages").json()["events"]
    assert [e["stage"] for e in events] == ["survey", "consent_1", "consent_1"]
    assert events[1]["effective"] is False and events[2]["corrects"] == events[1]["event_id"]
    assert client_for(city, "viewer").post(url, json={"stage": "survey", "date": "2026-03-02"}).status_code == 403
    assert (
        planner.post("/communities/999999/stages", json={"stage": "survey", "date": "2026-03-02"}).status_code == 404
    )


@pytest.mark.parametrize("kind", ["plan", "progress"])
def test_map_pages_are_offline_html(city: Store, kind: str) -> None:
    client: TestClient = client_for(city, "viewer")
    page = client.get(
        f"/maps/{kind}.html",
        params={"profile": "chuxiong-2020", "as_of": "2026-11-23"}
        if kind == "progress"
        else {"profile": "chuxiong-2020"},
    )
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "L.map" in html or "Leaflet" in html
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"https?://", html)
    street = client.get(f"/maps/{kind}.html", params={"street": "华庭街道", "profile": "chuxiong-2020"})
    assert street.status_code == 200 and len(street.text) < len(html)


def test_progress_page_is_cached_until_a_stage_is_recorded(city: Store) -> None:
    planner = client_for(city, "planner")
    params = {"profile": "chuxiong-2020", "as_of": "2026-11-23"}
    first = planner.get("/maps/progress.html", params=params).text
    assert planner.get("/maps/progress.html", params=params).text == first
    fid = int(city.read_layer("communities", filters={"id": "C0002"})["fid"].iloc[0])
    posted = planner.post(
        f"/communities/{fid}/stages?profile=chuxiong-2020", json={"stage": "survey", "date": "2026-03-02"}
    )
    assert posted.status_code == 201
    assert planner.get("/maps/progress.html", params=params).text != first
