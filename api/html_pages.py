"""HTML views (``f=html``) of the OGC API resources, for a planner who opens the service in a browser.

Plain pages from the standard library's ``html.escape``: every link is relative to the service or taken from the
JSON document, so nothing refers to an external host and the pages work on an intranet.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "body{font-family:'WenQuanYi Zen Hei','Noto Sans CJK SC',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;white-space:nowrap}"
    "th{background:#f3f3f3}a{color:#0b5394}nav a{margin-right:1em}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        '<nav><a href="/?f=html">首页 Home</a><a href="/collections?f=html">数据集 Collections</a>'
        '<a href="/docs">接口文档 API</a></nav>'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def _links(links: list[dict[str, Any]]) -> str:
    rows = "".join(
        f'<li><a href="{escape(str(link["href"]))}">{escape(str(link.get("title") or link["rel"]))}</a>'
        f" ({escape(str(link.get('type', '')))})</li>"
        for link in links
    )
    return f"<ul>{rows}</ul>"


def _cell(value: Any) -> str:
    """A table cell: text is escaped; only `_Markup` (built here from escaped parts) passes as HTML."""
    if isinstance(value, _Markup):
        return f"<td>{value}</td>"
    if isinstance(value, bool):
        return f"<td>{'是' if value else '否'}</td>"
    return f"<td>{escape('' if value is None else str(value))}</td>"


class _Markup(str):
    """HTML this module built itself from escaped values."""


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def landing(doc: dict[str, Any]) -> str:
    return _page(doc["title"], f"<p>{escape(doc['description'])}</p>{_links(doc['links'])}")


def conformance(doc: dict[str, Any]) -> str:
    return _page(
        "符合的标准 / Conformance", "<ul>" + "".join(f"<li>{escape(c)}</li>" for c in doc["conformsTo"]) + "</ul>"
    )


def _collection_block(doc: dict[str, Any]) -> str:
    cid = escape(doc["id"])
    bbox = doc.get("extent", {}).get("spatial", {}).get("bbox", [[]])[0]
    return (
        f'<h2><a href="/collections/{cid}?f=html">{escape(doc["title"])}</a></h2>'
        f"<p>{escape(doc.get('description', ''))}</p>"
        f"<p>范围 Extent: {escape(', '.join(f'{v:.5f}' for v in bbox))}</p>"
        f'<p><a href="/collections/{cid}/items?f=html">要素 Features</a> · '
        f'<a href="/collections/{cid}/queryables?f=html">可查询属性 Queryables</a></p>'
    )


def collections(doc: dict[str, Any]) -> str:
    return _page("数据集 / Collections", "".join(_collection_block(c) for c in doc["collections"]))


def collection(doc: dict[str, Any]) -> str:
    return _page(doc["title"], _collection_block(doc) + _links(doc["links"]))


def queryables(doc: dict[str, Any]) -> str:
    rows = [{"name": k, **v} for k, v in doc["properties"].items()]
    return _page(f"可查询属性 / Queryables: {doc['title']}", _table(rows, ["name", "title", "type", "format"]))


def items(cid: str, doc: dict[str, Any]) -> str:
    features = doc["features"]
    columns = list(dict.fromkeys(k for f in features for k in f["properties"]))
    rows = [
        {
            **f["properties"],
            " ": _Markup(
                f'<a href="/collections/{escape(cid)}/items/{escape(str(f["id"]))}?f=html">{escape(str(f["id"]))}</a>'
            ),
        }
        for f in features
    ]
    table = _table(rows, [" ", *columns])
    pages = [link for link in doc["links"] if link["rel"] in ("prev", "next")]
    nav = " ".join(
        f'<a href="{escape(link["href"])}">{"上一页 Previous" if link["rel"] == "prev" else "下一页 Next"}</a>'
        for link in pages
    )
    summary = f"<p>共 {doc['numberMatched']} 个，本页 {doc['numberReturned']} 个 / {doc['numberMatched']} matched</p>"
    return _page(f"要素 / Features: {cid}", summary + f"<p>{nav}</p>" + table)


def item(cid: str, feature: dict[str, Any]) -> str:
    rows = [{"property": k, "value": v} for k, v in feature["properties"].items()]
    geometry = feature.get("geometry") or {}
    body = _table(rows, ["property", "value"]) + f"<p>几何 Geometry: {escape(str(geometry.get('type')))}</p>"
    return _page(f"{cid} / {feature['id']}", body + _links(feature.get("links", [])))
