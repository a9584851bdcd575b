"""Text GDAL would silently cut short: a NUL character inside a value of a GeoJSON, GeoPackage or Shapefile.

GDAL keeps text as C strings, so ``"ab\\u0000cd"`` in a GeoJSON, a GeoPackage TEXT value with a NUL byte, or a NUL
inside a .dbf character field arrive as ``"ab"`` (property names too, in GeoJSON): the import would store a
different name than the file holds, and say nothing. These checks read the file itself, before GDAL does, and name
where the NUL is. FlatGeobuf needs none: GDAL passes its strings through whole and the value checks refuse the NUL.

Private: file access for the importers.
"""

from __future__ import annotations

import mmap
import re
import sqlite3
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from geo.errors import DataError

#: A JSON ``\u0000`` escape, with the backslashes before it (an even number of them escape each other instead).
_JSON_NUL = re.compile(rb"(\\+)u0000")
#: .dbf records scanned per step (memory stays flat in the file's size).
_DBF_CHUNK = 50_000
#: GeoPackage column types that hold text (BLOB columns may hold NUL bytes legitimately).
_GPKG_TEXT = re.compile(r"^(TEXT|VARCHAR|CHAR|CLOB|DATE|DATETIME)", re.IGNORECASE)
_SHOWN = 20


def refuse_hidden_nul(path: Path, *, member: str | None = None, layer: str | None = None) -> None:
    """Raise `DataError` when text in the file holds a NUL GDAL would cut the value at.

    ``member`` is the ``.shp`` inside ``path`` when it is a zipped shapefile; ``layer`` the GeoPackage layer read.
    """
    if member is not None:
        with zipfile.ZipFile(path) as zf:
            name = _dbf_member(zf.namelist(), member)
            if name is not None:
                with zf.open(name) as fh:
                    _refuse(Path(member).name, _dbf_nuls(fh))
        return
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        _refuse(path.name, _json_nuls(path))
    elif suffix == ".gpkg":
        _refuse(path.name, _gpkg_nuls(path, layer))
    elif suffix == ".shp":
        dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.is_file()), None)
        if dbf is not None:
            with dbf.open("rb") as fh:
                _refuse(path.name, _dbf_nuls(fh))


def _refuse(name: str, found: Iterator[tuple[str, str]]) -> None:
    """``found`` yields ``(where zh, where en)``; the first few make the error."""
    places = [f for _, f in zip(range(_SHOWN), found, strict=False)]
    if places:
        raise DataError(
            f"{name} 的文字中含有 NUL 字符（\\u0000），读取时会被截断，未导入任何数据："
            + "；".join(z for z, _ in places),
            f"{name} holds text with a NUL character (\\u0000), which would be cut short on reading; nothing was "
            "imported: " + "; ".join(e for _, e in places),
        )


def _json_nuls(path: Path) -> Iterator[tuple[str, str]]:
    if path.stat().st_size == 0:
        return
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data.find(b"u0000") < 0:  # the common case, at memchr speed
            return
        for match in _JSON_NUL.finditer(data):
            if len(match.group(1)) % 2 == 1:
                start = max(0, match.start() - 60)
                around = data[start : match.end() + 20].decode("utf-8", errors="replace").replace("\n", " ")
                yield f"字节 {match.start()} 附近：…{around}…", f"near byte {match.start()}: …{around}…"


def _gpkg_nuls(path: Path, layer: str | None) -> Iterator[tuple[str, str]]:
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    except sqlite3.Error:
        return  # GDAL reports an unreadable file itself
    try:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type IN ('features', 'attributes')"
            )
            if layer is None or t == layer
        ]
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            for _, column, kind, *_ in conn.execute(f"PRAGMA table_info({quoted})").fetchall():
                if not _GPKG_TEXT.match(kind or ""):
                    continue
                col = '"' + column.replace('"', '""') + '"'
                rows = conn.execute(
                    f"SELECT (SELECT count(*) FROM {quoted} AS o WHERE o.rowid <= t.rowid) FROM {quoted} AS t "
                    f"WHERE instr(CAST({col} AS BLOB), x'00') > 0 LIMIT {_SHOWN}"
                ).fetchall()
                for (row,) in rows:
                    yield f"第 {row} 行，列 {column}", f"row {row}, column {column}"
    except sqlite3.Error:
        return
    finally:
        conn.close()


def _dbf_nuls(fh: IO[bytes]) -> Iterator[tuple[str, str]]:
    """NULs followed by other text inside a character field (trailing NUL padding is harmless and common)."""
    head = fh.read(32)
    if len(head) < 32:
        return
    records, header_len, record_len = struct.unpack("<IHH", head[4:12])
    fields, offset = [], 1
    for _ in range((header_len - 33) // 32):
        desc = fh.read(32)
        if len(desc) < 32 or desc[0] == 0x0D:
            break
        name = desc[:11].split(b"\x00")[0].decode("latin-1")
        length = desc[16]
        if desc[11:12] == b"C":
            fields.append((name, offset, length))
        offset += length
    if not fields or record_len == 0:
        return
    fh.read(max(0, header_len - fh.tell()))  # to the first record (works on a zip member, which streams)
    seen = live_seen = 0
    while seen < records:
        chunk = fh.read(record_len * min(_DBF_CHUNK, records - seen))
        n = len(chunk) // record_len
        if n == 0:
            return
        table = np.frombuffer(chunk[: n * record_len], dtype=np.uint8).reshape(n, record_len)
        live = table[:, 0] != ord("*")  # GDAL skips deleted records and numbers the rest
        numbers = live_seen + np.cumsum(live)
        for name, start, length in fields:
            cells = table[:, start : start + length]
            after_nul = np.logical_or.accumulate(cells == 0, axis=1)
            bad = live & (after_nul & (cells != 0) & (cells != 0x20)).any(axis=1)
            for row in numbers[bad][:_SHOWN]:
                yield f"第 {row} 行，字段 {name}", f"row {row}, field {name}"
        seen += n
        live_seen += int(live.sum())


def _dbf_member(names: list[str], shp: str) -> str | None:
    stem = shp[: -len(Path(shp).suffix)]
    return next((n for n in names if n[: -len(Path(n).suffix)] == stem and n.lower().endswith(".dbf")), None)
