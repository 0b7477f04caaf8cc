"""CSV label files: read with the header checked, errors naming file and line."""

import csv
import math
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence, Tuple
from espnet_ser.errors import InputError, MissingInput


def read_utf8(path: Path) -> str:
    """A label file's text as UTF-8 (a BOM is dropped; CRLF and LF both end lines); another encoding is
    an error naming the file, the line and what to do."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{path}:{line}: not UTF-8 (byte 0x{data[e.start]:02x}); convert the file to UTF-8, "
                         "e.g. iconv -f latin1 -t utf-8") from None


def read_csv_rows(path: Path, required: Sequence[str]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """(line number, row) for each data row of a UTF-8 CSV (a BOM and CRLF line ends are fine).

    Errors name the file (and line): a missing file or required column, another encoding (with what to
    do), a row with more or fewer fields than the header.
    """
    if not path.is_file():
        raise MissingInput(f"{path}: label file not found")
    try:
        # streamed: a label file of 200k utterances x evaluators is never held in memory whole
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    got = len([v for k, v in row.items() if k is not None and v is not None]) + len(row.get(None) or [])
                    raise InputError(f"{path}:{reader.line_num}: {got} fields where the header has {len(header)}")
                yield reader.line_num, row
    except UnicodeDecodeError:
        read_utf8(path)  # the error naming the line (the stream decodes ahead by blocks: its position is not the line)
        raise


def parse_float(value: Optional[str], where: str) -> float:
    """'' or 'nan' -> NaN; a number -> float; anything else is an error naming ``where``."""
    value = (value or "").strip()
    if value == "" or value.lower() == "nan":
        return math.nan
    try:
        return float(value)
    except ValueError:
        raise InputError(f"{where}: not a number: {value!r}") from None
