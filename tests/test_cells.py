"""No value from the data becomes a live formula in a spreadsheet we write (CSV/formula injection), both stores.

A community named ``=HYPERLINK(…)`` with id ``=1+1`` in a street ``-2+3`` and a neighbourhood ``@SUM(A1)``: the
layer export (CSV, XLSX) and the candidate list (CSV, XLSX) must hold those exact texts as text, and the
numbers as numbers.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from geo.analysis import analyse, load_city, street_candidates
from geo.io.cells import csv_cell, csv_frame, is_formula_like
from geo.io.exporters import export_layer
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.reports.candidates import write_candidates
from geo.stores import Store
from tests.badinput.make_corpus import collection, community, write_json

NAME = '=HYPERLINK("http://evil.example/x","点击领取")'
HOSTILE = {"id": "=1+1", "name": NAME, "street": "-2+3", "neighbourhood": "@SUM(A1)", "households": 120}


@pytest.fixture
def hostile(store: Store, tmp_path: Path) -> Store:
    features = [community("=1+1", 0, NAME, **{k: v for k, v in HOSTILE.items() if k not in ("id", "name")})]
    features.append(community("C2", 300, "+86 13800000000", street="-2+3", households=80, year_built=1990))
    features[0]["properties"]["year_built"] = 1985
    import_layer(store, "communities", write_json(tmp_path / "hostile.geojson", collection(features)))
    return store


def _xlsx_cells(path: Path) -> list:
    book = load_workbook(path)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_xlsx_safe(path: Path, texts: list[str]) -> None:
    cells = _xlsx_cells(path)
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell became a formula"
    for text in texts:
        found = [c for c in cells if c.value == text]
        assert found and all(c.data_type == "s" and c.quotePrefix for c in found), text


def test_layer_export_keeps_hostile_text_as_text(hostile: Store, tmp_path: Path) -> None:
    xlsx = tmp_path / "c.xlsx"
    export_layer(hostile, "communities", xlsx, fmt="xlsx", lang="en")
    _assert_xlsx_safe(xlsx, ["=1+1", NAME, "-2+3", "@SUM(A1)", "+86 13800000000"])
    households = [c for c in _xlsx_cells(xlsx) if c.value == 120]
    assert [c.data_type for c in households] == ["n"]

    path = tmp_path / "c.csv"
    export_layer(hostile, "communities", path, fmt="csv", lang="en")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first = next(r for r in rows if r["name"].endswith('点击领取")'))
    assert first["id"] == "'=1+1" and first["name"] == "'" + NAME and first["street"] == "'-2+3"
    assert first["neighbourhood"] == "'@SUM(A1)" and first["households"] == "120"


def test_candidate_lists_keep_hostile_text_as_text(hostile: Store, tmp_path: Path) -> None:
    profile = load_profile("national-2020")
    candidates = street_candidates(analyse(load_city(hostile), profile=profile), "-2+3")
    xlsx = write_candidates(candidates, tmp_path / "c.xlsx", format="xlsx", profile=profile)
    _assert_xlsx_safe(xlsx, ["=1+1", NAME])
    path = write_candidates(candidates, tmp_path / "c.csv", format="csv", profile=profile)
    text = path.read_text(encoding="utf-8-sig")
    assert "'=1+1" in text and "'=HYPERLINK" in text
    assert not any(line.startswith(("=", "+", "-", "@")) for line in text.splitlines())


def test_numbers_stay_numbers_and_only_formula_like_text_is_escaped() -> None:
    assert [csv_cell(v) for v in (-5, 1.5, True, None, "-", "a=b", "=x")] == [-5, 1.5, True, None, "'-", "a=b", "'=x"]
    assert is_formula_like("\rX") and not is_formula_like(-1)
    frame = pd.DataFrame({"n": [-1, 2], "t": ["=A1", "ok"]})
    assert csv_frame(frame).to_dict("list") == {"n": [-1, 2], "t": ["'=A1", "ok"]}
