"""An items page costs what it holds, not what the layer holds: on SQLite as on PostGIS, selection, count, order and
paging run in SQL, so only the page's rows reach Python (issue: ``limit=1`` read all 470k buildings on SQLite).

Every statement the request sends to the store is recorded; each one that reads the layer is re-run as
``SELECT count(*) FROM (statement)`` to count the rows it handed to Python. No timing is asserted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from geo.stores import Store
from tests.test_api_features import client_for, load_sample


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement (with its parameters) sent to ``store`` while the block runs."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def rows_fetched(store: Store, seen: list[tuple[str, Any]], layer: str) -> int:
    """Rows the statements that read ``layer`` returned to Python."""
    total = 0
    with store.engine.connect() as conn:
        for statement, parameters in seen:
            if f"FROM {layer}" not in statement or not statement.lstrip().upper().startswith("SELECT"):
                continue
            counted = f"SELECT count(*) FROM ({statement}) AS page"
            total += int(conn.exec_driver_sql(counted, parameters).scalar_one())
    return total


@pytest.mark.parametrize(
    ("params", "page"),
    [
        ({"limit": "1"}, 1),
        ({"limit": "1", "offset": "1000"}, 1),
        ({"limit": "5", "sortby": "-households"}, 5),
        ({"limit": "5", "bbox": "101.52,25.02,101.56,25.05", "floors": "6"}, 5),
        ({"limit": "5", "filter": "S_INTERSECTS(geometry, BBOX(101.52,25.02,101.56,25.05)) AND households > 10"}, 5),
    ],
)
def test_a_page_reads_only_its_rows_and_one_count(store: Store, params: dict, page: int) -> None:
    load_sample(store)
    client = client_for(store)
    layer_rows = store.count("buildings")
    assert layer_rows > 1000
    with statements(store) as seen:
        r = client.get("/collections/buildings/items", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["numberReturned"] == len(body["features"]) <= page
    assert body["numberMatched"] >= len(body["features"])
    # The page's rows plus one row of count: never the layer.
    assert rows_fetched(store, seen, "buildings") <= page + 1
    assert any("LIMIT" in s.upper() for s, _ in seen if "FROM buildings" in s)


def test_the_count_matches_the_rows_a_full_read_selects(store: Store) -> None:
    load_sample(store)
    client = client_for(store)
    bbox = (101.52, 25.02, 101.56, 25.05)
    expected = store.read_layer("buildings", bbox=bbox)
    page = client.get("/collections/buildings/items", params={"limit": "1", "bbox": ",".join(map(str, bbox))}).json()
    assert page["numberMatched"] == len(expected) > 1
    assert page["features"][0]["properties"]["id"] == expected["id"].iloc[0]
