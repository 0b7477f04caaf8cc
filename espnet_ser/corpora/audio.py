"""Audio checks done during preparation: a file is usable as it is, usable after the format stage
converts it (another sample rate, several channels, another container: counted as ``converted``), or
dropped for a named reason (missing, unreadable, empty)."""

from pathlib import Path
from typing import Optional, Tuple

import soundfile as sf

#: the rate the toolkit's models read; the recipe's format stage (stage 2) converts everything else
EXPECTED_FS = 16000
#: containers the format stage keeps as they are (others are rewritten as WAV)
KEPT_FORMATS = ("WAV", "FLAC")


def inspect_audio(path: Path, fs: int = EXPECTED_FS) -> Tuple[Optional[str], Optional[str]]:
    """``(problem, conversion)``: ``problem`` is a drop reason (``missing_audio`` (also a dangling or
    looping link), ``not_a_file`` (a directory, a FIFO, a device: never opened, so never a hang),
    ``unreadable_audio``, ``empty_audio``) or None; ``conversion`` says what the format stage will change
    in a usable file (``sample_rate_44100``, ``channels_2``, ``format_OGG``, joined by ``+``), None when
    nothing."""
    if not path.exists():
        return "missing_audio", None
    if not path.is_file():
        return "not_a_file", None
    try:
        info = sf.info(str(path))
    except Exception:  # soundfile raises several types for broken files
        return "unreadable_audio", None
    if info.frames == 0 or info.samplerate <= 0:
        return "empty_audio", None
    changes = []
    if info.samplerate != fs:
        changes.append(f"sample_rate_{info.samplerate}")
    if info.channels != 1:
        changes.append(f"channels_{info.channels}")
    if info.format not in KEPT_FORMATS:
        changes.append(f"format_{info.format}")
    return None, "+".join(changes) or None
