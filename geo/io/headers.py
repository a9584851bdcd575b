"""Header typos: a header that is nearly a known one is refused with a suggestion instead of kept as an extra.

A survey whose ``供水`` header reads ``供水X`` used to import silently: water supply became empty for every row (the
column was kept as an extra property) and the street's ranking changed. Every layer's headers are now sorted into
three kinds before any row is read:

- known (English name, Chinese alias, ``--mapping``, the 10-character names a Shapefile cuts them to): renamed;
- near misses of a known header the file does not already supply — an edit or two away (``househols``,
  ``建成年分``), or a known Chinese alias with a few extra characters (``供水X``, ``总户数``, ``建筑面积（㎡）``):
  refused, naming the header meant ("did you mean 供水 (water_supply)?");
- the rest: kept as extra properties and listed in the import summary.

A column that only looks like a known one is kept by mapping it to ``extra`` in the ``--mapping`` file. Edit
distances come from ``rapidfuzz`` (a maintained C++ implementation).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from rapidfuzz.distance import Levenshtein

from geo.errors import DataError
from geo.io.normalise import KEEP_AS_EXTRA, header_map
from geo.model import Layer

#: Bookkeeping columns of exported files (English and the Chinese spreadsheet headers): never extras, never typos.
SYSTEM_HEADERS: dict[str, str] = {
    "fid": "fid",
    "要素号": "fid",
    "version": "version",
    "版本": "version",
    "retired": "retired",
    "已撤销": "retired",
    "merged_into": "merged_into",
    "并入": "merged_into",
    "extra": "extra",
    "其他属性": "extra",
}
#: Extra characters a known Chinese alias may carry and still be taken for a misspelling of it (``供水X``).
MAX_EXTRA_CHARS = 2
_BRACKETED = re.compile(r"\s*[（(【\[][^）)】\]]*[）)】\]]\s*$")
_SEPARATORS = re.compile(r"[\s_\-.:/]+")


def sort_headers(
    columns: Sequence[str], layer: Layer, *, mapping: Mapping[str, str] | None, source: str
) -> list[str]:
    """Refuse near misses of known headers; return the headers kept as extra properties.

    Raises
    ------
    DataError
        Naming every near miss and the header it probably means, in Chinese and English.
    """
    known = header_map(layer, mapping=mapping)
    supplied = {known[c.strip().lower()] for c in map(str, columns) if c.strip().lower() in known}
    candidates = [(a, t) for a, t in known.items() if t not in supplied and t != KEEP_AS_EXTRA]
    labels = _labels(layer, known)
    typos: list[tuple[str, str, str]] = []
    extras: list[str] = []
    for column in map(str, columns):
        header = column.strip().lower()
        if known.get(header) == KEEP_AS_EXTRA:
            extras.append(column)
            continue
        if header in known or header in SYSTEM_HEADERS:
            continue
        guess = _closest(header, candidates)
        if guess is None:
            extras.append(column)
        else:
            typos.append((column, labels.get(guess[1], guess[0]), guess[1]))
    if typos:
        zh = "；".join(f"列“{c}”不是已知的列，是否应为 {label}（{target}）？" for c, label, target in typos)
        en = "; ".join(
            f"column {c!r} is not a known column: did you mean {label} ({target})?" for c, label, target in typos
        )
        raise DataError(
            f"{source} 的表头有疑似错字：{zh}请改正表头，或在 --mapping 文件中写“列名: 字段名”；"
            f"确为其他信息的列写“列名: {KEEP_AS_EXTRA}”作为附加属性保留。",
            f"{source} has misspelt headers: {en} Correct the header, or map it in a --mapping file "
            f"(header: column); a column that really is something else is kept with 'header: {KEEP_AS_EXTRA}'.",
        )
    return extras


def _labels(layer: Layer, known: Mapping[str, str]) -> dict[str, str]:
    """The header to show for each column: its Chinese alias (the whole item label for survey items)."""
    labels = {c.name: c.zh for c in layer.columns}
    return {target: labels.get(target, target) for target in set(known.values())}


def _closest(header: str, candidates: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The known (alias, column) ``header`` is a near miss of, the closest first; None when it is none's."""
    best: tuple[float, str, str] | None = None
    for alias, target in candidates:
        score = _miss(header, alias)
        if score is not None and (best is None or score < best[0]):
            best = (score, alias, target)
    return None if best is None else (best[1], best[2])


def _miss(header: str, alias: str) -> float | None:
    """How far ``header`` is from ``alias`` when it looks like a misspelling of it (None when it does not)."""
    if _is_chinese(alias):
        stripped = _BRACKETED.sub("", header)
        if stripped == alias:
            return 0.5  # a unit or note in brackets: 建筑面积（㎡）
        if len(alias) >= 2 and alias in header and len(header) - len(alias) <= MAX_EXTRA_CHARS:
            return float(len(header) - len(alias))
        if len(alias) >= 3 and Levenshtein.distance(header, alias) <= 1:
            return 1.0
        return None
    if _SEPARATORS.sub("", header) == _SEPARATORS.sub("", alias):
        return 0.5  # year built, Year-Built
    if len(alias) < 4:
        return None  # "id" is one edit from half the words in a file
    limit = 1 if len(alias) <= 6 else 2
    distance = Levenshtein.distance(header, alias, score_cutoff=limit)
    return float(distance) if distance <= limit else None


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
