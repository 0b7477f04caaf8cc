"""Long synthetic recordings written chunk by chunk (tests and benchmarks of long-file inference)."""

from pathlib import Path
from typing import Union

import numpy as np
import soundfile as sf


def write_tone(path: Union[str, Path], seconds: float, fs: int, channels: int, chunk_s: float = 30.0) -> Path:
    """An amplitude-modulated 220 Hz tone of ``seconds`` at ``fs`` with ``channels``, 16-bit WAV; never more
    than ``chunk_s`` seconds in memory."""
    with sf.SoundFile(str(path), "w", fs, channels, subtype="PCM_16") as f:
        done = 0
        total = int(seconds * fs)
        while done < total:
            n = min(int(chunk_s * fs), total - done)
            t = (np.arange(n) + done) / fs
            x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.2 * t))
            f.write(np.repeat(x[:, None], channels, axis=1).astype(np.float32))
            done += n
    return Path(path)
