"""Audio checks done during preparation: every problem becomes a named drop reason."""

from pathlib import Path
from typing import Optional

import soundfile as sf

EXPECTED_FS = 16000


def audio_problem(path: Path, fs: int = EXPECTED_FS) -> Optional[str]:
    """None when ``path`` is a readable, non-empty, mono file at ``fs`` Hz; else the drop reason."""
    if not path.is_file():
        return "missing_audio"
    try:
        info = sf.info(str(path))
    except Exception:  # soundfile raises several types for broken files
        return "unreadable_audio"
    if info.frames == 0:
        return "empty_audio"
    if info.samplerate != fs:
        return f"sample_rate_not_{fs}"
    if info.channels != 1:
        return "not_mono"
    return None
