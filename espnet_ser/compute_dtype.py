"""The float type the frozen upstream computes in: ``auto``, ``fp32`` or ``bf16``.

Nearly all the cost of extraction and inference is the frozen SSL upstream (HuBERT-large). Where the
hardware has bf16 units, casting its *weights* and input to bfloat16 runs it several times faster than
fp32, and faster than ``torch.autocast`` (which converts weights on every call); see
docs/benchmarks.md. Only the frozen upstream is cast: its layer outputs come back as float32, so the
layer weighting, conformer, pooling softmax, heads, losses and metrics stay in fp32. Frontends without
a frozen upstream (fbank) are left as they are.

``auto`` picks bf16 on CUDA devices that support it and on CPUs that report AMX-BF16 or AVX512-BF16
(``/proc/cpuinfo`` flags), fp32 elsewhere, and says which and why.
"""

from pathlib import Path
from typing import Tuple

import torch

from espnet_ser.errors import InputError

CHOICES = ("auto", "fp32", "bf16")
TORCH = {"fp32": torch.float32, "bf16": torch.bfloat16}
CPU_BF16_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_flags(path: str = "/proc/cpuinfo") -> set:
    try:
        text = Path(path).read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_name(path: str = "/proc/cpuinfo") -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` says (figures name their machine)."""
    import platform

    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def resolve(choice: str, device: str = "cpu", flags: set = None) -> Tuple[str, str]:
    """``(fp32|bf16, reason)`` for a ``--dtype`` choice on ``device``."""
    if choice not in CHOICES:
        raise InputError(f"--dtype must be one of {', '.join(CHOICES)}, got {choice!r}")
    if choice != "auto":
        return choice, "asked for"
    if str(device).startswith("cuda"):
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16", "auto: the CUDA device supports bf16"
        return "fp32", "auto: the CUDA device lacks bf16"
    have = sorted((cpu_flags() if flags is None else flags) & set(CPU_BF16_FLAGS))
    if have:
        return "bf16", f"auto: the CPU has {' and '.join(have)}"
    return "fp32", "auto: the CPU has no bf16 units (no amx_bf16 / avx512_bf16)"


def apply(model: torch.nn.Module, dtype: str) -> int:
    """Cast every frozen upstream inside ``model`` to ``dtype``; returns how many were cast."""
    n = 0
    for m in model.modules():
        if hasattr(m, "set_compute_dtype"):
            m.set_compute_dtype(TORCH[dtype])
            n += 1
    return n
