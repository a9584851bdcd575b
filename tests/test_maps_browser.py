"""Both maps open in headless Chromium with networking off and draw polygons, legend and street panel."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from geo.analysis import analyse, load_city, plan_streets
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.stores import open_store
from maps.plan import render_plan_map
from maps.progress import render_progress_map

CHROMIUM = Path("/usr/bin/chromium")
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "boundaries"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # No network: every host resolves nowhere, so any CDN reference would fail to load.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=5000",
]

pytestmark = pytest.mark.browser


def dump_dom(page: Path, profile_dir: Path) -> str:
    """The page's DOM after its scripts ran, as Chromium serialises it."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium (/usr/bin/chromium) is missing under CI=true")
        pytest.skip("Chromium not installed")
    result = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile_dir}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def maps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    out = tmp_path_factory.mktemp("browser")
    store = open_store(f"sqlite:///{out / 'city.sqlite'}")
    for layer in ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads"):
        import_layer(store, layer, SAMPLE / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE / "survey.xlsx")
    city = load_city(store)
    store.dispose()
    profile = load_profile("mangshi-2020")
    analysis = analyse(city, profile=profile)
    plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=30_000_000)
    plan_page = out / "plan.html"
    plan_page.write_text(render_plan_map(analysis=analysis, plan=plan, city=city), encoding="utf-8")
    ids = analysis.candidates["community_id"].tolist()[:2]
    stages = pd.DataFrame(
        {"community_id": ids, "stage": ["tender", "construction"], "date": [dt.date(2021, 2, 1)] * 2}
    )
    progress_page = out / "progress.html"
    progress_page.write_text(
        render_progress_map(
            analysis=analysis, city=city, stages=stages, as_of=dt.date(2021, 6, 1), profile=profile, plan=plan
        ),
        encoding="utf-8",
    )
    return plan_page, progress_page, len(analysis.candidates)


def test_plan_map_draws_in_chromium(maps: tuple[Path, Path, int], tmp_path: Path) -> None:
    plan_page, _progress, n = maps
    dom = dump_dom(plan_page, tmp_path / "chrome")
    # Below 3,000 communities everything is SVG: one path per community plus streets, zones, units, packages.
    assert dom.count("<path") > n
    assert 'class="rn-legend leaflet-control"' in dom and "rn-legend-item" in dom
    assert 'id="rn-street"' in dom and 'id="rn-search"' in dom
    assert "leaflet-control-layers" in dom


def test_progress_map_draws_panel_in_chromium(maps: tuple[Path, Path, int], tmp_path: Path) -> None:
    _plan, progress_page, n = maps
    dom = dump_dom(progress_page, tmp_path / "chrome")
    assert dom.count("<path") > n
    assert "rn-legend-item" in dom
    assert 'class="rn-panel"' in dom and "受益户数" in dom and "数据截至 2021-06-01" in dom
