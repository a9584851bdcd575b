"""Benchmark of the progress map on generated cities, against a plain folium map of the same data in the same run.

Run as ``python -m bench.bench_maps [--sizes 1000 10000 50000]``. For each city size
(:func:`geo.synthetic.city.make_city`) it analyses the city, plans it and gives 60 % of the communities a stage, then
measures, each in a fresh process so peak memory is its own:

- ``html_mb`` / ``seconds`` / ``peak_rss_mib``: :func:`maps.progress.render_progress_map`;
- ``folium_mb`` / ``folium_seconds`` / ``folium_rss_mib``: ``folium.GeoJson`` of the same communities and
  progress fields with a 3-field tooltip, rendered to HTML (its Leaflet comes from a CDN, so its size excludes
  the ~160 kB of Leaflet this map inlines);
- ``ratio``: ``html_mb / folium_mb`` (aim: at most 1/6). Both pages are folium pages; ours inlines Leaflet and
  folium's plugins (fullscreen, measure, minimap, search: ~300 kB) and carries the side panel, yet stays a sixth
  of the naive page because its geometry and properties are in the compact encoding (``maps/_encode.py``);
- ``chromium``: whether headless Chromium, networking off, ran the page to the end (the runtime marks the body
  with the number of features drawn, the side panel holds the street table) and in how many seconds.

It prints a table and returns the results as a dict.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench._measure import measure
from geo.analysis import City, analyse, plan_streets
from geo.io.derive import assign_by_overlap, community_totals
from geo.policy.profiles import load_profile
from geo.synthetic.city import make_city
from maps.progress import community_progress, render_progress_map

PROFILE = "mangshi-2020"
AS_OF = dt.date(2021, 6, 1)
CHROMIUM = "/usr/bin/chromium"
_RENDERED = "data-rendered="


def _city(n: int) -> City:
    """A generated city as the importer would store it: buildings assigned by location, totals derived."""
    layers = make_city(n_communities=n)
    buildings, communities = layers["buildings"].copy(), layers["communities"].copy()
    missing = buildings["community_id"].isna()
    buildings.loc[missing, "community_id"] = assign_by_overlap(buildings[missing], areas=communities)
    totals = community_totals(buildings).reindex(communities["id"])
    for col in ("households", "floor_area_m2", "year_built"):
        communities[col] = communities[col].fillna(pd.Series(totals[col].to_numpy(), index=communities.index))
    layers |= {"buildings": buildings, "communities": communities}
    return City(**{name: layers[name] for name in City.__dataclass_fields__})


def _stages(community_ids: np.ndarray, codes: list[str], seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    picked = community_ids[rng.random(len(community_ids)) < 0.6]
    days = rng.integers(0, 540, len(picked))
    return pd.DataFrame(
        {
            "community_id": picked,
            "stage": np.array(codes)[rng.integers(0, len(codes), len(picked))],
            "date": [dt.date(2020, 1, 1) + dt.timedelta(days=int(d)) for d in days],
        }
    )


def _render_ours(job: dict[str, Any]) -> int:
    html = render_progress_map(**job["kwargs"])
    Path(job["out"]).write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))


def _render_folium(job: dict[str, Any]) -> int:
    import folium

    kwargs = job["kwargs"]
    cands = kwargs["analysis"].candidates
    progress = community_progress(
        analysis=kwargs["analysis"],
        stages=kwargs["stages"],
        as_of=AS_OF,
        profile=kwargs["profile"],
        plan=kwargs["plan"],
    )
    gdf = cands[["community_id", "name", "street", "households", "cost_yuan", "geometry"]].merge(
        progress[["community_id", "stage", "date", "plan_year", "status", "reason"]], on="community_id"
    )
    gdf["date"] = gdf["date"].map(lambda d: None if d is None else d.isoformat())
    gdf = gdf.to_crs(4326)
    minx, miny, maxx, maxy = gdf.total_bounds
    fmap = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None)
    folium.GeoJson(gdf, tooltip=folium.GeoJsonTooltip(fields=["name", "stage", "status"])).add_to(fmap)
    html = fmap.get_root().render()
    Path(job["folium_out"]).write_text(html, encoding="utf-8")
    return len(html.encode("utf-8"))


def chromium_opens(page: Path, *, budget_ms: int = 30_000) -> dict[str, Any]:
    """Open ``page`` in headless Chromium with no network; report whether the runtime drew every feature."""
    if shutil.which(CHROMIUM) is None:
        return {"opened": False, "seconds": None, "note": "chromium missing"}
    with tempfile.TemporaryDirectory() as profile_dir:
        start = time.perf_counter()
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile_dir}",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        seconds = time.perf_counter() - start
    drawn = _RENDERED in result.stdout and 'class="rn-pick"' in result.stdout
    return {"opened": result.returncode == 0 and drawn, "seconds": round(seconds, 1)}


def run(sizes: list[int], *, out_dir: Path) -> dict[int, dict[str, Any]]:
    profile = load_profile(PROFILE)
    codes = [s.code for s in profile.stages]
    results: dict[int, dict[str, Any]] = {}
    for n in sizes:
        city = _city(n)
        analysis = analyse(city, profile=profile)
        plan = plan_streets(analysis, streets=None, year_from=2021, budget_per_year=200_000_000)
        stages = _stages(analysis.candidates["community_id"].to_numpy(), codes)
        kwargs = {
            "analysis": analysis,
            "city": city,
            "stages": stages,
            "as_of": AS_OF,
            "profile": profile,
            "plan": plan,
        }
        page = out_dir / f"progress_{n}.html"
        job = {"kwargs": kwargs, "out": str(page), "folium_out": str(out_dir / f"folium_{n}.html")}
        ours = measure(_render_ours, job)
        theirs = measure(_render_folium, job)
        row = {
            "communities": len(analysis.candidates),
            "html_mb": ours["result"] / 1e6,
            "seconds": ours["seconds"],
            "peak_rss_mib": ours["peak_rss_mib"],
            "folium_mb": theirs["result"] / 1e6,
            "folium_seconds": theirs["seconds"],
            "folium_rss_mib": theirs["peak_rss_mib"],
        }
        row["ratio"] = row["html_mb"] / row["folium_mb"]
        if n == max(sizes):
            row["chromium"] = chromium_opens(page)
        results[n] = row
    return results


def _table(results: dict[int, dict[str, Any]]) -> str:
    head = f"{'N':>7} {'html MB':>8} {'s':>6} {'RSS MiB':>8} {'folium MB':>10} {'folium s':>9} {'ratio':>6}  chromium"
    lines = [head, "-" * len(head)]
    for n, r in results.items():
        browser = r.get("chromium")
        shown = "" if browser is None else f"opened={browser['opened']} in {browser['seconds']} s"
        lines.append(
            f"{n:>7} {r['html_mb']:>8.2f} {r['seconds']:>6.2f} {r['peak_rss_mib']:>8.0f} {r['folium_mb']:>10.2f} "
            f"{r['folium_seconds']:>9.2f} {r['ratio']:>6.2f}  {shown}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[int, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--out", type=Path, default=None, help="keep the pages in this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.out or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        results = run(args.sizes, out_dir=out_dir)
    print(_table(results))
    return results


if __name__ == "__main__":
    main()
