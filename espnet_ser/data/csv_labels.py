"""CSV label files: read with the header checked, errors naming file and line."""

import csv
import math
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple


def read_csv_rows(path: Path, required: Sequence[str]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """(line number, row) for each data row; a missing required column is an error naming the file."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: label file not found")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
        for row in reader:
            yield reader.line_num, row


def parse_float(value: Optional[str], where: str) -> float:
    """'' or 'nan' -> NaN; a number -> float; anything else is an error naming ``where``."""
    value = (value or "").strip()
    if value == "" or value.lower() == "nan":
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{where}: not a number: {value!r}") from None


def scale_vad(raw: Sequence[float], lo: float, hi: float) -> Tuple[Optional[Tuple[float, ...]], int]:
    """Map each present value from [lo, hi] to [0, 1]; NaN stays missing, out-of-range becomes missing.

    Returns the values (None when none remains) and how many present values were out of range.
    """
    out, bad = [], 0
    for v in raw:
        if math.isnan(v):
            out.append(math.nan)
        elif v < lo or v > hi:
            out.append(math.nan)
            bad += 1
        else:
            out.append((v - lo) / (hi - lo))
    return (None if all(math.isnan(v) for v in out) else tuple(out)), bad
