"""The HTML page both maps share: Leaflet and the runtime inlined, the map's data as one compact JSON block."""

from __future__ import annotations

import html
import json
from typing import Any

from maps._assets import leaflet_css, leaflet_js, runtime_css, runtime_js


def _json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Inside <script> only "</" can end the element early; JSON allows "\/" for "/".
    return text.replace("</", "<\\/")


def render_page(*, title: str, data: dict[str, Any], lang: str) -> str:
    """A complete, self-contained HTML document (no external script or stylesheet)."""
    return (
        f'<!DOCTYPE html>\n<html lang="{"en" if lang == "en" else "zh-CN"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{leaflet_css()}</style>\n<style>{runtime_css()}</style>\n</head>\n<body>\n"
        '<div id="map"></div>\n'
        f'<script type="application/json" id="map-data">{_json(data)}</script>\n'
        f"<script>{leaflet_js()}</script>\n<script>{runtime_js()}</script>\n</body>\n</html>\n"
    )
