"""What the editing page relies on: the merge-gap check and refusal, history by compound id, the form's fields."""

from __future__ import annotations

import pytest

from geo.editing import MERGE_GAP_M
from geo.stores import Store
from tests.test_api_features import client_for
from tests.test_editing import add_communities, gk_box


def test_merge_gaps_warn_and_refuse_beyond_the_merge_gap(store: Store) -> None:
    add_communities(
        store,
        [
            ("A", gk_box(0, 0, 100, 100), 40),
            ("B", gk_box(100, 0, 100, 100), 60),  # touches A
            ("C", gk_box(210, 0, 100, 100), 10),  # 10 m from B
            ("D", gk_box(0, 150, 100, 100), 10),  # 50 m from A
        ],
    )
    planner = client_for(store, "planner")
    touching = planner.post("/communities/merge/check", json={"ids": ["A", "B"]}).json()
    assert touching == {"gaps": [{"a": "A", "b": "B", "distance_m": 0.0}], "touching": True, "max_gap_m": MERGE_GAP_M}
    chain = planner.post("/communities/merge/check", json={"ids": ["A", "B", "C"]}).json()
    assert not chain["touching"] and chain["gaps"][0]["distance_m"] == pytest.approx(10.0)
    far = planner.post("/communities/merge", json={"ids": ["A", "D"], "name": "远院"})
    assert far.status_code == 409 and "15" in far.json()["detail"] and "A–D 50 米" in far.json()["detail"]
    assert store.read_layer("communities")["retired"].sum() == 0  # nothing merged
    assert planner.post("/communities/merge", json={"ids": ["A", "B", "C"], "name": "三院"}).status_code == 201
    assert planner.post("/communities/merge/check", json={"ids": ["A", "X"]}).status_code == 404
    assert client_for(store, "viewer").post("/communities/merge/check", json={"ids": ["A", "B"]}).status_code == 403


def test_history_takes_the_compound_id_and_the_old_number(store: Store) -> None:
    fids = add_communities(store, [("C0070", gk_box(0, 0, 100, 100), 40), ("7", gk_box(200, 0, 50, 50), 5)])
    planner = client_for(store, "planner")
    changed = planner.patch(
        f"/collections/communities/items/{fids['C0070']}",
        json={"properties": {"households": 41}},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200
    by_id = planner.get("/communities/C0070/history").json()
    assert by_id["id"] == "C0070" and [e["action"] for e in by_id["edits"]] == ["patch"]
    assert planner.get(f"/communities/{fids['C0070']}/history").json()["id"] == "C0070"  # older links still work
    assert planner.get("/communities/7/history").json()["id"] == "7"  # an id that looks like a number wins
    assert planner.get("/communities/C9999/history").status_code == 404


def test_editing_page_form_and_basemaps(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(store, "viewer")
    fields = client.get("/edit/fields.json").json()["fields"]
    assert {"name": "households", "type": "int", "label": "户数", "required": False} in fields
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    assert [b["name"] for b in client.get("/edit/basemaps.json").json()["basemaps"]] == ["osm"]
    monkeypatch.setenv("TIANDITU_KEY", "k")
    assert [b["name"] for b in client.get("/edit/basemaps.json").json()["basemaps"]] == ["osm", "tianditu"]
