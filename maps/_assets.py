"""Every script and stylesheet a map page uses, from installed packages, inlined so one HTML file works offline.

Maps must open on an office PC with no internet (and in a browser with networking off), so nothing is linked from
a CDN. folium names its libraries by URL; the page is built with placeholder URLs (``renewal-asset:NAME``) that
:func:`inline_assets` replaces by the file's text, images in stylesheets becoming data URIs:

- Leaflet from the pip package ``xstatic-leaflet``;
- folium's plugins (fullscreen, measure, minimap, search) from the npm packages of the same versions folium
  links to, installed by ``npm ci --prefix api/web`` (``api/web/package.json``, which the editing page shares).
  They are optional: after a plain ``pip install`` (no Node.js on the machine) the pages leave those tools out
  and say so (:func:`missing_tools`), so ``renewal demo`` still works;
- this service's runtime (``runtime.js``: the compact data encoding folium has no element for) and stylesheet.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import re
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet

from geo.errors import RenewalError

_HERE = Path(__file__).parent
#: Where ``npm ci --prefix api/web`` installs the browser libraries (also served to the editing page).
NODE_MODULES = _HERE.parent / "api" / "web" / "node_modules"
_LEAFLET = Path(xleaflet.BASE_DIR)

#: Asset name -> file. Names are what the page's placeholder URLs carry.
ASSETS: dict[str, Path] = {
    "leaflet.js": _LEAFLET / "leaflet.js",
    "leaflet.css": _LEAFLET / "leaflet.css",
    "fullscreen.js": NODE_MODULES / "leaflet.fullscreen" / "Control.FullScreen.js",
    "fullscreen.css": NODE_MODULES / "leaflet.fullscreen" / "Control.FullScreen.css",
    "measure.js": NODE_MODULES / "leaflet-measure" / "dist" / "leaflet-measure.min.js",
    "measure.css": NODE_MODULES / "leaflet-measure" / "dist" / "leaflet-measure.css",
    "minimap.js": NODE_MODULES / "leaflet-minimap" / "dist" / "Control.MiniMap.min.js",
    "minimap.css": NODE_MODULES / "leaflet-minimap" / "dist" / "Control.MiniMap.min.css",
    "search.js": NODE_MODULES / "leaflet-search" / "dist" / "leaflet-search.min.js",
    "search.css": NODE_MODULES / "leaflet-search" / "dist" / "leaflet-search.min.css",
    "runtime.js": _HERE / "runtime.js",
    "map.css": _HERE / "map.css",
}
#: The map tools that come from npm, and the assets each needs.
TOOLS: dict[str, tuple[str, ...]] = {
    "fullscreen": ("fullscreen.js", "fullscreen.css"),
    "measure": ("measure.js", "measure.css"),
    "minimap": ("minimap.js", "minimap.css"),
    "search": ("search.js", "search.css"),
}
PREFIX = "renewal-asset:"
_CSS_URL = re.compile(r"""url\(\s*['"]?(?!data:|#)([^'")]+?)['"]?\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_SCRIPT = re.compile(r'<script src="' + re.escape(PREFIX) + r'([\w.-]+)"></script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="' + re.escape(PREFIX) + r'([\w.-]+)"/>')


class MissingAssetError(RenewalError):
    """A browser library the map pages inline is not installed (``npm ci --prefix api/web`` was not run)."""


def missing_tools() -> list[str]:
    """The map tools whose browser library is not installed: pages are built without them."""
    return [tool for tool, names in TOOLS.items() if not all(ASSETS[n].is_file() for n in names)]


def missing_tools_note(lang: str = "zh") -> str | None:
    """One line for the user when map tools are left out (None when every tool is installed)."""
    missing = missing_tools()
    if not missing:
        return None
    if lang == "en":
        return f"map tools left out ({', '.join(missing)}): run npm ci --prefix api/web to add them"
    zh = {"fullscreen": "全屏", "measure": "测量", "minimap": "鹰眼图", "search": "搜索"}
    names = "、".join(zh[t] for t in missing)
    return f"地图未含以下工具（{names}）：在项目目录运行 npm ci --prefix api/web 后重新生成即可"


def url(name: str) -> str:
    """The placeholder URL folium writes for asset ``name`` (replaced by its text in :func:`inline_assets`)."""
    if name not in ASSETS:
        raise KeyError(name)
    return PREFIX + name


def _read(name: str) -> str:
    path = ASSETS[name]
    if not path.is_file():
        raise MissingAssetError(
            f"地图所需的浏览器组件未安装（{path.name}）：请在项目目录运行 npm ci --prefix api/web",
            f"a browser library the maps need is not installed ({path.name}): run npm ci --prefix api/web",
        )
    return path.read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.cache
def asset_text(name: str) -> str:
    """The text of an asset: scripts without their source-map comment, stylesheets with images embedded."""
    text = _read(name)
    if name.endswith(".css"):
        base = ASSETS[name].parent
        return _CSS_URL.sub(lambda m: f"url({_data_uri((base / m.group(1)).resolve())})", text)
    text = _SOURCE_MAP.sub("", text)
    if "</script" in text.lower():
        raise ValueError(f"{name} contains </script and cannot be inlined")
    return text


def inline_assets(html: str) -> str:
    """Replace every ``<script src>`` and stylesheet link to a placeholder URL by the asset's text."""
    html = _SCRIPT.sub(lambda m: f"<script>{asset_text(m.group(1))}</script>", html)
    return _STYLE.sub(lambda m: f"<style>{asset_text(m.group(1))}</style>", html)
