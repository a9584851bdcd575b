"""The change log (``changes``): every committed write adds its rows in the same transaction, with the streets it
touched; refused writes add nothing; caches keyed on it see every write at once (both stores).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text

from api.app import create_app
from bench.load import load_sample
from geo import editing
from geo.analysis import analyse, load_city, plan_streets, save_plan, street_candidates
from geo.auth import add_user
from geo.errors import DataError
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.progress.store import record_stage
from geo.stores import Store
from geo.stores.changes import Change
from tests.badinput.make_corpus import write_bytes
from tests.test_editing import add_communities, gk_box

SAMPLE_STREET = "华庭街道"


def _surveyed(store: Store, community_id: str) -> None:
    record_stage(
        store,
        community_id=community_id,
        stage="survey",
        date=dt.date(2026, 3, 1),
        evidence=None,
        actor="t",
        profile="national-2020",
    )


def _new(store: Store, since: int) -> list[tuple[str, tuple[str, ...] | None]]:
    return [(c.layer, c.streets) for c in store.changes_since(since)]


def test_every_write_logs_what_it_touched_in_its_own_transaction(store: Store, tmp_path: Path) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    stamp = store.change_stamp()
    assert stamp > 0 and _new(store, 0) == [("communities", None)]  # a bulk write: any street

    moved = editing.update_feature(
        store,
        layer="communities",
        fid=fids["A"],
        version=1,
        properties={"street": "江滨街道"},
        geometry=None,
        actor="t",
        replace=False,
    )
    assert _new(store, stamp) == [("communities", ("华庭街道", "江滨街道"))]  # a move touches both streets
    stamp = store.change_stamp()

    merged = editing.merge_communities(store, ids=["A", "B"], name="并院", actor="t")
    assert _new(store, stamp) == [("communities", ("华庭街道", "江滨街道"))]
    stamp = store.change_stamp()
    editing.undo_merge(store, group_id=merged.group_id, actor="t")
    assert _new(store, stamp) == [("communities", ("华庭街道", "江滨街道"))]
    stamp = store.change_stamp()

    _surveyed(store, "B")
    assert _new(store, stamp) == [("stage_events", ("华庭街道",))]
    stamp = store.change_stamp()

    survey = write_bytes(tmp_path / "s.csv", "community_id,供水\nA,是\n".encode())
    import_layer(store, "survey", survey)
    assert _new(store, stamp) == [("survey", None)]
    stamp = store.change_stamp()

    analysis = analyse(load_city(store), profile=load_profile("national-2020"))
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=None)
    save_plan(store, name="p", profile="national-2020", params={}, plan=plan)
    assert _new(store, stamp) == [("plans", None)]
    stamp = store.change_stamp()

    editing.delete_feature(store, layer="communities", fid=fids["A"], version=moved.version + 2, actor="t")
    assert _new(store, stamp) == [("communities", ("江滨街道",))]
    ids = [c.change_id for c in store.changes_since(0)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_refused_or_read_only_transaction_logs_nothing(store: Store, tmp_path: Path) -> None:
    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    stamp = store.change_stamp()
    with pytest.raises(editing.StaleVersionError):
        editing.update_feature(
            store,
            layer="communities",
            fid=fids["A"],
            version=7,
            properties={"households": 1},
            geometry=None,
            actor="t",
            replace=False,
        )
    bad = write_bytes(tmp_path / "bad.csv", "community_id,支持改造户数\nA,inf\n".encode())
    with pytest.raises(DataError):
        import_layer(store, "survey", bad)
    with store.begin() as conn:
        conn.execute(text("SELECT count(*) FROM communities"))
    assert store.change_stamp() == stamp and store.changes_since(stamp) == []


def test_the_stamp_can_be_asked_for_some_layers_only(store: Store) -> None:
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    communities = store.change_stamp(["communities"])
    _surveyed(store, "A")
    assert store.change_stamp(["communities", "survey"]) == communities < store.change_stamp()
    assert store.change_stamp(["roads"]) == 0
    assert store.changes_since(communities) == [Change(store.change_stamp(), "stage_events", ("华庭街道",))]


@pytest.mark.postgis
def test_change_ids_never_restart_on_postgis(postgis: Store) -> None:
    """``TRUNCATE ... RESTART IDENTITY`` (a reload, the test fixtures) must not hand an old id out again, or a
    cache keyed on it would serve old data as new. (SQLite's AUTOINCREMENT never reuses an id either.)"""
    store = postgis
    add_communities(store, [("A", gk_box(0, 0, 100, 100), 40)])
    before = store.change_stamp()
    with store.begin() as conn:
        conn.execute(text("TRUNCATE changes, communities RESTART IDENTITY CASCADE"))
    assert store.change_stamp() == 0
    add_communities(store, [("B", gk_box(0, 0, 100, 100), 40)])
    assert store.change_stamp() > before


def _flipped(source: Path, target: Path) -> Path:
    """The survey with every 是/否 answer turned over: same rows, same count, other deficiencies."""
    book = load_workbook(source)
    for row in book.active.iter_rows(min_row=2):
        for cell in row:
            if cell.value in ("是", "否"):
                cell.value = "否" if cell.value == "是" else "是"
    book.save(target)
    return target


def test_a_reimported_survey_with_flipped_answers_changes_the_candidate_list_at_once(
    store: Store, tmp_path: Path
) -> None:
    """The old cache stamp counted survey rows: the same count with other answers served the stale list."""
    load_sample(store)
    token = add_user(store, "planner", "planner")
    client = TestClient(create_app(store), headers={"Authorization": f"Bearer {token}"})
    url = f"/streets/{SAMPLE_STREET}/candidates?profile=national-2020"
    before = client.get(url).json()
    import_layer(
        store, "survey", _flipped(Path("data/boundaries/survey.xlsx"), tmp_path / "flipped.xlsx"), replace=True
    )
    after = client.get(url).json()
    fresh = street_candidates(analyse(load_city(store), profile=load_profile("national-2020")), SAMPLE_STREET)
    assert [r["score"] for r in after] == fresh["score"].tolist()
    assert [r["score"] for r in after] != [r["score"] for r in before]
