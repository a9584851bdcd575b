"""Leaflet, inlined: the CSS and JS of the installed ``xstatic-leaflet`` package, with its images as data URIs.

Maps must open on an office PC with no internet (and in a browser with networking off), so nothing is linked from
a CDN: the page carries Leaflet itself, and this service's own runtime script and stylesheet beside this module.
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import xstatic.pkg.leaflet as xleaflet

_LEAFLET = Path(xleaflet.BASE_DIR)
_HERE = Path(__file__).parent
_CSS_IMAGE = re.compile(r"url\((images/[\w.-]+\.png)\)")
_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)


def _data_uri(match: re.Match[str]) -> str:
    data = base64.b64encode((_LEAFLET / match.group(1)).read_bytes()).decode("ascii")
    return f"url(data:image/png;base64,{data})"


@functools.cache
def leaflet_css() -> str:
    """Leaflet's stylesheet with its control images embedded."""
    return _CSS_IMAGE.sub(_data_uri, (_LEAFLET / "leaflet.css").read_text(encoding="utf-8"))


@functools.cache
def leaflet_js() -> str:
    """Leaflet's minified script, without the source-map comment (nothing to fetch)."""
    return _SOURCE_MAP.sub("", (_LEAFLET / "leaflet.js").read_text(encoding="utf-8"))


@functools.cache
def runtime_js() -> str:
    """The map runtime shared by the plan and progress maps (decoding, styling, popups, legend, filters)."""
    return (_HERE / "runtime.js").read_text(encoding="utf-8")


@functools.cache
def runtime_css() -> str:
    return (_HERE / "map.css").read_text(encoding="utf-8")
