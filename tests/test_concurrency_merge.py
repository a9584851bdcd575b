"""Merges, undos and edits fired together at a real server (uvicorn, two worker processes).

On PostGIS (READ COMMITTED) an undo that checked the merged community's version with a plain SELECT and then
deleted it without a version condition could delete it after a PATCH was answered 200: 1 round in 30 lost that
edit. Here a merge is followed by a PATCH of the merged community and an undo of the merge, released together,
for `ROUNDS` rounds: exactly one of the two succeeds, and whichever did is what the history and the store show.
Creates and merges racing for one new id get one 201 and 409s, never a 500 (both stores).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bench.load import serve_process
from geo.auth import add_user
from geo.io.importers import import_layer
from geo.stores import Store
from tests.badinput.make_corpus import collection, community, feature, polygon, square, write_json

ROUNDS = 50
#: Pairs of neighbouring communities 80 m wide, 300 m apart: each round merges a fresh pair.
SPACING_M = 300.0


def _import_pairs(store: Store, tmp_path: Path, n: int) -> None:
    features = []
    for i in range(n):
        features += [community(f"P{i}a", i * SPACING_M), community(f"P{i}b", i * SPACING_M + 80.0)]
    import_layer(store, "communities", write_json(tmp_path / "pairs.geojson", collection(features)))


def _together(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run the calls on threads of their own, released at the same instant."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


@pytest.mark.postgis
def test_patch_and_undo_of_a_merge_never_both_succeed_on_postgis(postgis: Store, tmp_path: Path) -> None:
    store = postgis
    _import_pairs(store, tmp_path, ROUNDS)
    auth = {"Authorization": f"Bearer {add_user(store, 'racer', 'planner')}"}
    outcomes: Counter[str] = Counter()
    with serve_process(_url(store), workers=2) as url:
        patcher = httpx.Client(base_url=url, headers=auth, timeout=60.0)
        undoer = httpx.Client(base_url=url, headers=auth, timeout=60.0)
        for i in range(ROUNDS):
            merged = patcher.post("/communities/merge", json={"ids": [f"P{i}a", f"P{i}b"], "name": f"并{i}"})
            assert merged.status_code == 201, merged.text
            group, fid, value = merged.json()["group_id"], merged.json()["merged"]["id"], 5000 + i
            patch, undo = _together(
                lambda fid=fid, value=value: patcher.patch(
                    f"/collections/communities/items/{fid}",
                    json={"properties": {"households": value}},
                    headers={"If-Match": '"1"'},
                ),
                lambda group=group: undoer.post(f"/communities/merge/{group}/undo"),
            )
            won = [r.is_success for r in (patch, undo)]
            assert won.count(True) == 1, (patch.status_code, patch.text, undo.status_code, undo.text)
            assert max(patch.status_code, undo.status_code) < 500
            product = patcher.get(f"/collections/communities/items/{fid}")
            members = store.read_layer("communities", ids=[f"P{i}a", f"P{i}b"], include_retired=True)
            merged_id = merged.json()["merged"]["properties"]["id"]
            history = patcher.get(f"/communities/{fid}/history")
            if patch.is_success:
                outcomes["patch"] += 1
                assert undo.status_code == 409
                assert product.status_code == 200 and product.headers["etag"] == '"2"'
                assert product.json()["properties"]["households"] == value
                assert members["retired"].all()
                edits = history.json()["edits"]
                assert [(e["action"], e["version"]) for e in edits] == [("merge", 1), ("patch", 2)]
                assert edits[-1]["after"]["properties"]["households"] == value
            else:
                outcomes["undo"] += 1
                assert patch.status_code in (404, 409, 412)
                assert product.status_code == 404
                assert not members["retired"].any() and members["merged_into"].isna().all()
                actions = [e["action"] for e in _history(patcher, f"P{i}a")]
                assert actions[-2:] == ["retire", "restore"]
                assert merged_id not in set(store.read_layer("communities", include_retired=True)["id"])
        patcher.close()
        undoer.close()
    assert sum(outcomes.values()) == ROUNDS
    print(f"rounds won by the PATCH / by the undo: {outcomes['patch']} / {outcomes['undo']}")


def _history(client: httpx.Client, community_id: str) -> list[dict]:
    rows = client.get("/collections/communities/items", params={"id": community_id}).json()["features"]
    return client.get(f"/communities/{rows[0]['id']}/history").json()["edits"]


def test_creates_and_merges_racing_for_one_id_get_one_201_and_409s(store: Store, tmp_path: Path) -> None:
    rounds, racers = 6, 4
    _import_pairs(store, tmp_path, 2 * rounds)
    auth = {"Authorization": f"Bearer {add_user(store, 'racer', 'planner')}"}
    with serve_process(_url(store), workers=2) as url:
        clients = [httpx.Client(base_url=url, headers=auth, timeout=60.0) for _ in range(racers)]
        for r in range(rounds):
            creates = _together(
                *(
                    lambda c=c, k=k, r=r: c.post(
                        "/collections/communities/items",
                        json=feature({"id": f"DUP{r}", "name": "同号"}, polygon(square(k * 100.0, 2000.0 + r * 200))),
                    )
                    for k, c in enumerate(clients)
                )
            )
            assert sorted(x.status_code for x in creates) == [201] + [409] * (racers - 1), [x.text for x in creates]
            merges = _together(
                *(
                    lambda c=c, pair=pair, r=r: c.post(
                        "/communities/merge", json={"ids": [f"P{pair}a", f"P{pair}b"], "name": "并", "id": f"M{r}"}
                    )
                    for c, pair in zip(clients, (2 * r, 2 * r + 1), strict=False)
                )
            )
            assert sorted(x.status_code for x in merges) == [201, 409], [x.text for x in merges]
        for c in clients:
            c.close()
    ids = store.read_layer("communities", include_retired=True)["id"]
    assert all((ids == f"DUP{r}").sum() == 1 and (ids == f"M{r}").sum() == 1 for r in range(rounds))
