"""The HTML page both maps share, built with folium: map, tiles, scale, layer switcher and plugins are folium's.

What folium has no element for is the compact data encoding (:mod:`maps._encode`): each layer is a folium
``FeatureGroup`` (so the layer switcher and the search plugin treat it as any other) whose shapes the page's
runtime decodes from one JSON block. The title bar and the side panel (legend, tables, charts) are plain HTML
beside the map, never on top of it. Every script and stylesheet is inlined from installed packages
(:mod:`maps._assets`), so the page is one file that works with the network off.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, MeasureControl, MiniMap, Search
from folium.template import Template

from maps._assets import inline_assets, missing_tools, url
from maps._encode import SCALE, StringTable
from maps.basemaps import Basemap

#: From this zoom on, compounds are labelled with their names (and street names give way to them).
LABEL_ZOOM = 16


def _local(element: Any, *, js: Sequence[tuple[str, str]] = (), css: Sequence[tuple[str, str]] = ()) -> Any:
    """Point a folium element's script and stylesheet links at inlined local assets instead of a CDN."""
    element.default_js = [(name, url(asset)) for name, asset in js]
    element.default_css = [(name, url(asset)) for name, asset in css]
    return element


class CompactLayer(folium.FeatureGroup):
    """A folium feature group filled by the runtime from layer ``index`` of the page's compact data."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup({{ this.options|tojavascript }});
            renewal.fill({{ this.get_name() }}, {{ this.index }}, {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, *, index: int, name: str, show: bool = True) -> None:
        super().__init__(name=name, show=show)
        self.index = index


class CommunitySearch(Search):
    """folium's search plugin matching anywhere in "name id" (folium's template matches initial text only)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.layer.get_name() }}searchControl = new L.Control.Search({
                layer: {{ this.layer.get_name() }},
                propertyName: {{ this.search_label|tojson }},
                initial: false,
                collapsed: {{ this.collapsed|tojson }},
                textPlaceholder: {{ this.placeholder|tojson }},
                textErr: {{ this.not_found|tojson }},
                textCancel: {{ this.cancel|tojson }},
                position: {{ this.position|tojson }},
                marker: false,
                moveToLocation: function (latlng, title, map) {
                    map.fitBounds(latlng.layer.getBounds(), { maxZoom: 18 });
                }
            });
            {{ this._parent.get_name() }}.addControl({{ this.layer.get_name() }}searchControl);
        {% endmacro %}
        """
    )

    def __init__(self, layer: CompactLayer, *, placeholder: str, not_found: str, cancel: str) -> None:
        super().__init__(layer, search_label="label", geom_type="Polygon", placeholder=placeholder)
        self.not_found = not_found
        self.cancel = cancel


class OutlineMiniMap(MiniMap):
    """folium's minimap over the basemap's tiles, or over the street outlines when the map has no basemap."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.MiniMap(
                renewal.miniLayer({{ this.tiles|tojson }}), {{ this.options|tojavascript }});
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, tiles: dict[str, Any] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tiles = tiles


class Runtime(JSCSSMixin, MacroElement):
    """The page's runtime script and stylesheet, started once every layer and control is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            renewal.init({{ this._parent.get_name() }}, {{ this.search }});
        {% endmacro %}
        """
    )
    default_js = [("renewal_runtime", url("runtime.js"))]
    default_css = [("renewal_css", url("map.css"))]

    def __init__(self, search: str) -> None:
        super().__init__()
        self.search = search


@dataclass
class PageSpec:
    """Everything a map page shows: title bar, data layers, the side panel's HTML."""

    title: str
    subtitle: list[str]
    lang: str
    bm: Basemap
    strings: StringTable
    streets: list[str]
    layers: list[dict[str, Any]]
    extent: list[float]
    side: str
    street_labels: list[list[Any]] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)
    #: More page data for the runtime (the progress page's overdue list).
    extra: dict[str, Any] = field(default_factory=dict)


def _json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Inside <script> only "</" can end the element early; JSON allows "\/" for "/".
    return text.replace("</", "<\\/")


def _header(spec: PageSpec) -> str:
    e = html.escape
    options = "".join(f"<option>{e(s)}</option>" for s in spec.streets)
    subtitle = "".join(f"<div class='rn-subtitle'>{e(line)}</div>" for line in spec.subtitle if line)
    return (
        f"<header class='rn-head'><div><h1 class='rn-title'>{e(spec.title)}</h1>{subtitle}</div>"
        f"<label class='rn-filter'>{e(spec.labels['street'])} <select id='rn-street'>"
        f"<option value=''>{e(spec.labels['all_streets'])}</option>{options}</select></label></header>"
    )


def render_page(spec: PageSpec) -> str:
    """A complete, self-contained HTML document (no external script, stylesheet or image)."""
    lang = "en" if spec.lang == "en" else "zh"
    zh = lang == "zh"
    fmap = folium.Map(location=None, tiles=None, control_scale=True, width="100%", height="100%", zoom_snap=0.5)
    _local(fmap, js=[("leaflet", "leaflet.js")], css=[("leaflet_css", "leaflet.css")])
    root = fmap.get_root()
    root.title = spec.title
    minx, miny, maxx, maxy = spec.extent
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    for i, tile in enumerate(spec.bm.tiles):
        folium.TileLayer(
            tiles=tile["url"],
            attr=tile["attribution"],
            name=tile["attribution"],
            subdomains=tile.get("subdomains", "abc"),
            max_zoom=tile.get("maxZoom", 18),
            overlay=i > 0,
        ).add_to(fmap)
    groups = []
    for index, layer in enumerate(spec.layers):
        group = CompactLayer(index=index, name=layer["name"], show=layer.get("on", True))
        group.add_to(fmap)
        groups.append((layer, group))
    missing = set(missing_tools())  # npm-installed tools; a page without them still works
    if "fullscreen" not in missing:
        _local(
            Fullscreen(
                position="topleft", title="全屏" if zh else "Full screen", title_cancel="退出全屏" if zh else "Exit"
            ),
            js=[("fullscreen_js", "fullscreen.js")],
            css=[("fullscreen_css", "fullscreen.css")],
        ).add_to(fmap)
    if "measure" not in missing:
        _local(
            MeasureControl(
                position="topleft",
                primary_length_unit="meters",
                secondary_length_unit="kilometers",
                primary_area_unit="sqmeters",
                secondary_area_unit="hectares",
                localization="cn" if zh else "en",
            ),
            js=[("measure_js", "measure.js")],
            css=[("measure_css", "measure.css")],
        ).add_to(fmap)
    if "minimap" not in missing:
        _local(
            OutlineMiniMap(
                spec.bm.tiles[0] if spec.bm.tiles else None,
                toggle_display=True,
                zoom_level_offset=-4,
                width=120,
                height=120,
            ),
            js=[("minimap_js", "minimap.js")],
            css=[("minimap_css", "minimap.css")],
        ).add_to(fmap)
    search = "null"
    searchable = next((g for layer, g in groups if layer.get("search")), None)
    if searchable is not None and "search" not in missing:
        labels = spec.labels
        _local(
            CommunitySearch(
                searchable, placeholder=labels["search"], not_found=labels["not_found"], cancel=labels["cancel"]
            ),
            js=[("search_js", "search.js")],
            css=[("search_css", "search.css")],
        ).add_to(fmap)
        search = f"{searchable.get_name()}searchControl"
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    Runtime(search).add_to(fmap)
    data = {
        "lang": spec.lang,
        "scale": SCALE,
        "labels": spec.labels,
        "layers": spec.layers,
        "bounds": [round(v, 6) for v in spec.extent],
        "street_labels": spec.street_labels,
        "label_zoom": LABEL_ZOOM,
        "strings": spec.strings.strings,
        **spec.extra,
    }
    root.html.add_child(Element(_header(spec)))
    root.html.add_child(Element(f"<aside class='rn-side'>{spec.side}</aside>"))
    root.html.add_child(Element(f'<script type="application/json" id="map-data">{_json(data)}</script>'))
    page = inline_assets(root.render())
    return page.replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
