"""The /edit page in headless Chromium: a planner draws a compound, sees a conflict, merges two communities.

Driven with Playwright's Python package against the system Chromium (no browser is downloaded). Skipped locally
when Chromium, Playwright or the npm-installed drawing library is missing; under ``CI=true`` that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest

from api.routes_edit_page import GEOMAN
from geo import editing
from geo.auth import add_user
from geo.stores import Store
from tests.test_api_features import serve
from tests.test_editing import GK, add_communities, gk_box, wkb_of

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _missing() -> str | None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        return f"{CHROMIUM} not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright (Python package) not installed"
    if not GEOMAN.is_dir():
        return "Leaflet-Geoman not installed: run `npm ci --prefix api/web`"
    return None


@pytest.fixture
def browser_page():
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser test cannot run under CI=true: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1000})
        yield page
        browser.close()


def _pixel(page, geom_gk) -> tuple[float, float]:
    """Page coordinates of a GK point, through the page's own map projection."""
    lon, lat = gpd.GeoSeries([geom_gk], crs=GK).to_crs(4326).iloc[0].coords[0]
    x, y = page.evaluate(
        "([lat, lon]) => { const p = communityEditor.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        [lat, lon],
    )
    box = page.locator("#map").bounding_box()
    return box["x"] + x, box["y"] + y


def test_planner_draws_saves_and_merges_in_the_browser(store: Store, browser_page) -> None:
    from shapely.geometry import Point

    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    before = wkb_of(store, ["A"])
    token = add_user(store, "planner-web", "planner")
    page = browser_page
    with serve(store) as base:
        page.goto(f"{base}/edit")
        page.fill("#token", token)
        page.click("#login")
        page.wait_for_selector("body[data-loaded='2']")

        zoom = page.evaluate("communityEditor.map.getZoom()")
        page.click(".leaflet-control-zoom-out")  # room beside the two communities for a new one
        page.wait_for_function(f"communityEditor.map.getZoom() < {zoom}")
        page.fill("#name", "新画院")
        page.click("#draw")
        corners = [Point(20 + dx, -60 + dy) for dx, dy in ((0, 0), (40, 0), (40, 40), (0, 40))]
        corners = [Point(p.x + 450_000, p.y + 2_770_000) for p in corners]
        for corner in [*corners, corners[0]]:
            page.mouse.click(*_pixel(page, corner))
        page.wait_for_selector("#status.ok >> text=已保存新小区", timeout=15_000)

        # Someone else saves A first: moving A's corner in the page must show the conflict, not overwrite.
        editing.update_feature(
            store,
            layer="communities",
            fid=fids["A"],
            version=1,
            properties={"households": 41},
            geometry=None,
            actor="colleague",
            replace=False,
        )
        page.click("#edit")
        x, y = _pixel(page, Point(450_000, 2_770_100))
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 15, y - 15, steps=5)
        page.mouse.up()
        page.wait_for_selector("#status.error >> text=保存冲突", timeout=15_000)
        page.click("#edit")

        page.fill("#name", "甲乙合院")
        for center in (Point(450_050, 2_770_050), Point(450_152, 2_770_050)):
            page.mouse.click(*_pixel(page, center))
        page.wait_for_selector("#selected >> text=A")
        page.click("#merge")
        page.wait_for_selector("#status.ok >> text=已合并", timeout=15_000)

    live = store.read_layer("communities").set_index("name")
    assert sorted(live.index) == ["新画院", "甲乙合院"]
    drawn = float(gpd.GeoSeries([live.loc["新画院", "geometry"]], crs=4490).to_crs(GK).area.iloc[0])
    assert drawn == pytest.approx(1600, rel=0.1)  # a 40 m square, clicked to the pixel
    assert live.loc["甲乙合院", "households"] == 101
    assert wkb_of(store, ["A"]) == before  # the stale vertex move was refused
    retired = store.read_layer("communities", ids=["A", "B"], include_retired=True)
    assert retired["retired"].all()
    assert [e.actor for e in store.read_table("edits").itertuples()].count("planner-web") == 4
