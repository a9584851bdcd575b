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
from tests.test_editing import GK, add_communities, area_m2, gk_box, wkb_of

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


def _login(page, base: str, token: str, n: int) -> None:
    page.goto(f"{base}/edit")
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_selector(f"body[data-loaded='{n}']")


def _answer_dialogs(page, answers: list[str], seen: list[str]) -> None:
    """Accept prompts and confirms with the next answer in ``answers``, recording what each asked."""

    def handle(dialog) -> None:
        seen.append(dialog.message)
        dialog.accept(answers.pop(0) if answers else "")

    page.on("dialog", handle)


def test_planner_draws_saves_and_merges_in_the_browser(store: Store, browser_page) -> None:
    from shapely.geometry import Point

    fids = add_communities(store, [("A", gk_box(0, 0, 100, 100), 40), ("B", gk_box(102, 0, 100, 100), 60)])
    before = wkb_of(store, ["A"])
    token = add_user(store, "planner-web", "planner")
    page = browser_page
    asked: list[str] = []
    _answer_dialogs(page, ["新画院", "yes", "甲乙合院"], asked)
    with serve(store) as base:
        _login(page, base, token, 2)
        zoom = page.evaluate("communityEditor.map.getZoom()")
        page.click(".leaflet-control-zoom-out")  # room beside the two communities for a new one
        page.wait_for_function(f"communityEditor.map.getZoom() < {zoom}")
        page.click("#draw")
        corners = [Point(20 + dx, -60 + dy) for dx, dy in ((0, 0), (40, 0), (40, 40), (0, 40))]
        corners = [Point(p.x + 450_000, p.y + 2_770_000) for p in corners]
        page.mouse.move(*_pixel(page, corners[0]))
        # Leaflet-Geoman's drawing hints are in Chinese.
        assert "单击放置首个顶点" in page.locator(".leaflet-tooltip").last.inner_text()
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
        page.mouse.click(*_pixel(page, Point(450_050, 2_770_050)))
        page.click("#edit")
        # Only the selected compound gets vertex handles, not every compound on the map.
        assert page.locator(".marker-icon:not(.marker-icon-middle)").count() == 4
        x, y = _pixel(page, Point(450_000, 2_770_100))
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x - 15, y - 15, steps=5)
        page.mouse.up()
        page.wait_for_selector("#status.error >> text=保存冲突", timeout=15_000)

        page.click("#clear")
        page.check("#multi")
        for center in (Point(450_050, 2_770_050), Point(450_152, 2_770_050)):
            page.mouse.click(*_pixel(page, center))
        page.wait_for_selector("#selection >> text=已选 2 个小区")
        page.click("#merge")
        page.wait_for_selector("#status.ok >> text=已合并", timeout=15_000)

    assert asked[0] == "新小区名称" and asked[-1] == "合并后的小区名称"
    live = store.read_layer("communities").set_index("name")
    assert sorted(live.index) == ["新画院", "甲乙合院"]
    drawn = float(gpd.GeoSeries([live.loc["新画院", "geometry"]], crs=4490).to_crs(GK).area.iloc[0])
    assert drawn == pytest.approx(1600, rel=0.1)  # a 40 m square, clicked to the pixel
    assert live.loc["甲乙合院", "households"] == 101
    assert wkb_of(store, ["A"]) == before  # the stale vertex move was refused
    retired = store.read_layer("communities", ids=["A", "B"], include_retired=True)
    assert retired["retired"].all()
    assert [e.actor for e in store.read_table("edits").itertuples()].count("planner-web") == 4


def test_search_form_split_history_undo_delete_and_merge_gaps(store: Store, browser_page) -> None:
    from shapely.geometry import Point

    add_communities(
        store,
        [
            ("C0070", gk_box(0, 0, 100, 100), 40),
            ("C0071", gk_box(110, 0, 100, 100), 60),  # 10 m from C0070: merged after a warning
            ("C0072", gk_box(0, 160, 100, 100), 30),  # 60 m from C0070: refused
            ("C0073", gk_box(260, 0, 100, 100), 20),
        ],
    )
    street = gpd.GeoDataFrame(
        {"id": ["S1"], "name": ["华庭街道"]}, geometry=[gk_box(-20, -20, 400, 300)], crs=GK
    ).to_crs(4490)
    with store.begin() as conn:
        store.write_layer(conn, "streets", street)
    token = add_user(store, "planner-tools", "planner")
    page = browser_page
    asked: list[str] = []
    answers: list[str] = []
    _answer_dialogs(page, answers, asked)
    with serve(store) as base:
        _login(page, base, token, 4)
        assert page.locator(".street-label >> text=华庭街道").count() == 1  # the street layer, named

        # Search by id; the attribute form is the selected compound's; a change is saved with its version.
        page.fill("#search", "C0073")
        page.press("#search", "Enter")
        page.wait_for_selector("#selection >> text=C0073")
        assert page.input_value("#fields input[name=name]") == "C0073院"
        page.fill("#fields input[name=households]", "25")
        page.select_option("#fields select[name=property_management]", "true")
        page.click("#attributes button[type=submit]")
        page.wait_for_selector("#status.ok >> text=已保存 C0073 的属性")
        page.wait_for_selector("#history-list >> text=修改")

        # Delete it.
        answers.append("yes")
        page.click("#delete")
        page.wait_for_selector("#status.ok >> text=已删除")
        page.wait_for_selector("body[data-loaded='3']")

        # Split C0070 by a line drawn across it.
        page.fill("#search", "C0070")
        page.press("#search", "Enter")
        page.wait_for_selector("#selection >> text=C0070")
        page.click("#split")
        # Two vertices across the compound, then a click on the last one finishes the line (Geoman's rule);
        # pauses so the finishing click is not taken for a double click.
        for point in (Point(450_050, 2_769_980), Point(450_050, 2_770_120), Point(450_050, 2_770_120)):
            page.mouse.click(*_pixel(page, point))
            page.wait_for_timeout(400)
        page.wait_for_selector("#status.ok, #status.error", timeout=30_000)
        assert "已分割为" in page.inner_text("#status"), page.inner_text("#status")
        page.wait_for_selector("body[data-loaded='4']")

        # Merging C0071 with C0072 (60 m apart) is refused before anything is sent.
        page.check("#multi")
        for center in (Point(450_160, 2_770_050), Point(450_050, 2_770_210)):
            page.mouse.click(*_pixel(page, center))
        page.click("#merge")
        page.wait_for_selector("#status.error >> text=不能合并")
        page.click("#clear")

        # C0071 with the east part of C0070 (10 m apart): warned, confirmed, merged.
        answers.extend(["yes", "东西合院"])
        for center in (Point(450_160, 2_770_050), Point(450_075, 2_770_050)):
            page.mouse.click(*_pixel(page, center))
        page.click("#merge")
        page.wait_for_selector("#status.ok >> text=已合并", timeout=15_000)
        assert any("不相邻" in a and "10" in a for a in asked)

        # The merged compound's history offers the undo; undoing brings both back.
        page.uncheck("#multi")
        page.fill("#search", "东西合院")
        page.press("#search", "Enter")
        page.wait_for_selector("#history-list button.undo")
        answers.append("yes")
        page.click("#history-list button.undo")
        page.wait_for_selector("#status.ok >> text=已撤销", timeout=15_000)

    live = store.read_layer("communities").set_index("id")
    assert "C0073" not in live.index and "C0071" in live.index and "C0072" in live.index
    parts = [i for i in live.index if i not in ("C0071", "C0072")]
    areas = [area_m2(live.loc[i, "geometry"]) for i in parts]
    # Split along the line clicked near x = 50 m: two halves (to the pixel), together the whole compound.
    assert len(parts) == 2 and sum(areas) == pytest.approx(10_000, rel=0.01)
    assert all(a == pytest.approx(5000, rel=0.2) for a in areas), areas
    deleted = store.read_table("edits")
    assert ((deleted["feature_id"] == "C0073") & (deleted["action"] == "patch")).any()
    patched = deleted[(deleted["feature_id"] == "C0073") & (deleted["action"] == "patch")].iloc[0]
    assert patched["after"]["properties"]["households"] == 25
    assert patched["after"]["properties"]["property_management"] is True
