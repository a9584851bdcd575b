"""PostgreSQL binary COPY stream built with numpy, one column at a time (no per-row Python formatting).

Text COPY makes Python print every number and hex-encode every geometry, which costs more than the server's
own work. The binary format carries integers, floats and EWKB as they are: each column becomes a vector of field
lengths plus its concatenated payload bytes, and both are scattered into the output buffer with index arithmetic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)


def _fixed(values: pd.Series, dtype: str, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Lengths (``-1`` for NULL) and big-endian payload of a fixed-width column."""
    mask = values.isna().to_numpy()
    filled = values.fillna(0) if mask.any() else values
    payload = np.asarray(filled, dtype=dtype)[~mask].astype(np.dtype(dtype).newbyteorder(">"))
    lengths = np.where(mask, -1, width).astype(np.int64)
    return lengths, payload.view(np.uint8)


def _variable(values: pd.Series | np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and concatenated payload of a text/bytes column, taken from an Arrow array's buffers."""
    arr = pa.array(
        np.asarray(values, dtype=object), type=pa.binary() if kind == "bytes" else pa.string(), from_pandas=True
    )
    arr = pa.concat_arrays([arr])  # a fresh array: offset 0, buffers start at the first value
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: len(arr) + 1].astype(np.int64)
    lengths = np.diff(offsets)
    lengths[np.asarray(arr.is_null())] = -1
    data = arr.buffers()[2]
    payload = np.frombuffer(data, dtype=np.uint8)[: offsets[-1]] if data is not None else np.empty(0, np.uint8)
    return lengths, payload


def column_payload(values: pd.Series | np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(lengths, payload) for a column of ``kind``: int, float, bool, text, json or bytes."""
    if kind == "int":
        return _fixed(pd.Series(values).astype("Int64"), "int64", 8)
    if kind == "float":
        return _fixed(pd.Series(values).astype("float64"), "float64", 8)
    if kind == "bool":
        return _fixed(pd.Series(values).astype("boolean").astype("UInt8"), "uint8", 1)
    return _variable(values, kind)


def copy_buffer(columns: list[tuple[np.ndarray, np.ndarray]]) -> bytes:
    """The whole binary COPY stream for ``columns`` (each from :func:`column_payload`), header to trailer."""
    n = len(columns[0][0])
    k = len(columns)
    sizes = np.stack([np.maximum(lengths, 0) for lengths, _ in columns], axis=1)  # n × k payload sizes
    field_sizes = sizes + 4
    row_sizes = 2 + field_sizes.sum(axis=1)
    row_start = len(HEADER) + np.concatenate([[0], np.cumsum(row_sizes)[:-1]])
    total = len(HEADER) + int(row_sizes.sum()) + len(TRAILER)
    out = np.empty(total, dtype=np.uint8)
    out[: len(HEADER)] = np.frombuffer(HEADER, dtype=np.uint8)
    out[total - len(TRAILER) :] = np.frombuffer(TRAILER, dtype=np.uint8)
    nfields = np.frombuffer(k.to_bytes(2, "big"), dtype=np.uint8)
    out[row_start[:, None] + np.arange(2)] = nfields
    before = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(field_sizes, axis=1)[:, :-1]], axis=1)
    field_start = row_start[:, None] + 2 + before
    for c, (lengths, payload) in enumerate(columns):
        starts = field_start[:, c]
        out[starts[:, None] + np.arange(4)] = lengths.astype(">i4").view(np.uint8).reshape(n, 4)
        present = lengths > 0
        if present.any():
            lens = lengths[present]
            dst0 = starts[present] + 4
            # position of each payload byte: its field's start plus its offset inside the field
            offsets = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
            out[np.repeat(dst0, lens) + offsets] = payload
    return out.tobytes()
