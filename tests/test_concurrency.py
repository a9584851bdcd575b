"""20 clients race to edit the same 10 communities through a real uvicorn server (a child process; both stores).

Each client makes ``ATTEMPTS`` edit attempts: it PATCHes ``households`` with ``If-Match`` of the version it last
saw and, on 412, re-reads the community. Afterwards every accepted edit is in the community's history with its
version and value, every other attempt got a 412, the versions of each community run 2, 3, … without a gap or a
repeat, the final row holds the value of the last accepted edit, and nothing else in the store changed.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest

from bench.load import serve_process
from geo.auth import add_user
from geo.io.importers import import_layer
from geo.stores import Store
from tests.badinput.make_corpus import collection, community, write_json

CLIENTS = 20
#: Edit attempts per client. The issue asks for 100; on a 2-core machine one PATCH costs ~70 ms of server CPU, so
#: 20 × 100 attempts (the full race) take about three minutes per store: CI runs them all, a local run 20 × 20
#: unless ``RENEWAL_RACE_ATTEMPTS`` says otherwise.
ATTEMPTS = int(os.environ.get("RENEWAL_RACE_ATTEMPTS", "100" if os.environ.get("CI") == "true" else "20"))
CONTESTED = 10
UNTOUCHED = 3
#: uvicorn worker processes: the API is CPU-bound per request, so more than one uses the machine's cores.
WORKERS = 2


@pytest.fixture
def city(store: Store, tmp_path: Path) -> Store:
    features = [community(f"C{i}", i * 100.0) for i in range(CONTESTED + UNTOUCHED)]
    import_layer(store, "communities", write_json(tmp_path / "c.geojson", collection(features)))
    return store


def _race(url: str, token: str, fids: list[int], client_no: int) -> list[tuple[int, int, int, int]]:
    """One client's attempts: ``(fid, value, status, version it got)`` each; re-reads after a 412."""
    results = []
    headers = {"Authorization": f"Bearer {token}"}
    # Generous: the test judges outcomes, not latency (20 writers queue for one lock on the embedded store).
    with httpx.Client(base_url=url, headers=headers, timeout=120.0) as client:
        seen: dict[int, str] = {}
        for attempt in range(ATTEMPTS):
            fid = fids[(client_no + attempt) % len(fids)]
            if fid not in seen:
                seen[fid] = client.get(f"/collections/communities/items/{fid}").headers["etag"]
            value = client_no * 1000 + attempt + 1  # unique per attempt, so history can be matched to it
            r = client.patch(
                f"/collections/communities/items/{fid}",
                json={"properties": {"households": value}},
                headers={"If-Match": seen[fid]},
            )
            version = int(r.headers["etag"].strip('"')) if "etag" in r.headers else -1
            results.append((fid, value, r.status_code, version))
            if r.status_code == 200:
                seen[fid] = r.headers["etag"]
            else:
                del seen[fid]  # re-read before the next edit of this community
    return results


def test_conflicting_edits_keep_every_accepted_one_and_refuse_the_rest_with_412(city: Store) -> None:
    store = city
    token = add_user(store, "racer", "planner")
    before = store.read_layer("communities").set_index("id")
    contested = [f"C{i}" for i in range(CONTESTED)]
    fids = [int(before.at[cid, "fid"]) for cid in contested]
    url_of_store = store.engine.url.render_as_string(hide_password=False)
    with serve_process(url_of_store, workers=WORKERS) as url, ThreadPoolExecutor(CLIENTS) as pool:
        barrier = threading.Barrier(CLIENTS)

        def client(n: int) -> list[tuple[int, int, int, int]]:
            barrier.wait()
            return _race(url, token, fids, n)

        outcomes = [row for rows in pool.map(client, range(CLIENTS)) for row in rows]
        histories = {
            fid: httpx.get(f"{url}/communities/{fid}/history", headers={"Authorization": f"Bearer {token}"}).json()[
                "edits"
            ]
            for fid in fids
        }
    # Outcomes only: how long the race takes depends on the machine and is measured in bench/ (bench.load).
    table = pd.DataFrame(outcomes, columns=["fid", "value", "status", "version"])
    assert len(table) == CLIENTS * ATTEMPTS
    assert Counter(table["status"]).keys() <= {200, 412}, Counter(table["status"])
    accepted = table[table["status"] == 200]
    assert len(accepted) >= len(fids) and (table["status"] == 412).any()  # a real race, not turns

    after = store.read_layer("communities").set_index("id")
    for cid, fid in zip(contested, fids, strict=True):
        mine = accepted[accepted["fid"] == fid].sort_values("version")
        # versions 2..n+1, each handed out once: no lost update, no double write
        assert mine["version"].tolist() == list(range(2, 2 + len(mine)))
        updates = [e for e in histories[fid] if e["action"] != "create"]
        assert [e["version"] for e in updates] == mine["version"].tolist()
        assert [e["after"]["properties"]["households"] for e in updates] == mine["value"].tolist()
        last = mine.iloc[-1]
        assert int(after.at[cid, "version"]) == int(last["version"])
        assert int(after.at[cid, "households"]) == int(last["value"])
        assert after.at[cid, "geometry"].equals_exact(before.at[cid, "geometry"], 0.0)
        assert after.at[cid, "name"] == before.at[cid, "name"]
    untouched = [f"C{i}" for i in range(CONTESTED, CONTESTED + UNTOUCHED)]
    cols = ["fid", "name", "households", "version"]
    pd.testing.assert_frame_equal(after.loc[untouched, cols], before.loc[untouched, cols])
    assert len(after) == len(before)
