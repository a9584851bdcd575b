"""Regenerate the map screenshots in ``docs/``: run the demo into a temporary folder, open both maps in headless
Chromium with the network cut off, click a compound on the plan map, and save PNGs beside this script.

Run from the repository root: ``.venv/bin/python docs/make_screenshots.py`` (needs ``/usr/bin/chromium`` and
``npm ci --prefix api/web``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from rich.console import Console

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.demo import run_demo  # noqa: E402

DOCS = Path(__file__).resolve().parent
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SIZE = {"width": 1400, "height": 880}


def _open(browser, page_path: Path):
    page = browser.new_page(viewport=SIZE)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(page_path.as_uri())
    page.wait_for_selector("body[data-rendered]")
    page.wait_for_timeout(500)
    return page


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        run_demo(out=out, store_path=Path(tmp) / "demo.sqlite", console=Console(quiet=True))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
            plan = _open(browser, out / "plan_map.html")
            # Click a planned compound so the picture shows what a leader sees: its score, reasons, money, year.
            x, y = plan.evaluate(
                """() => {
                    const layer = renewal.groups.find((l) => l.search);
                    const i = layer.props.year.findIndex((y, k) => y !== null && layer.props.score[k] > 60);
                    const map = layer._group._map;
                    const p = map.latLngToContainerPoint(layer._feats[i].getBounds().getCenter());
                    return [p.x, p.y];
                }"""
            )
            box = plan.locator(".folium-map").bounding_box()
            plan.mouse.click(box["x"] + x, box["y"] + y)
            plan.wait_for_selector(".leaflet-popup-content")
            plan.wait_for_timeout(1200)  # the popup fades in and the map pans to fit it
            plan.screenshot(path=str(DOCS / "plan_map.png"))
            progress = _open(browser, out / "progress_map.html")
            progress.screenshot(path=str(DOCS / "progress_map.png"))
            progress.evaluate(
                """() => {
                    const side = document.querySelector('.rn-side');
                    const charts = [...side.querySelectorAll('h2')].find((h) => h.textContent === '图表');
                    side.scrollTop = charts.offsetTop - side.offsetTop - 8;
                }"""
            )
            progress.screenshot(path=str(DOCS / "progress_charts.png"))
            browser.close()
    print("→", ", ".join(str(p.relative_to(ROOT)) for p in sorted(DOCS.glob("*.png"))))


if __name__ == "__main__":
    main()
