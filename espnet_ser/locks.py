"""Output directories that two runs cannot write at once, and outputs swapped in whole.

:func:`hold` takes an exclusive ``flock`` on ``<parent>/.<name>.lock`` for as long as the block runs; a
second run meets a one-line refusal naming the holder (pid, host, start, command). The kernel drops
the lock when its process ends, however it ends, so the lock of a killed run never blocks the next
one (the file stays; its text is only information). ``ser.sh`` holds the same kind of lock on its
data, dump and exp dirs for the whole run (``flock`` in the shell).

:func:`build_aside` writes a directory next to its final place and swaps it in when complete: a re-run
never leaves files of an earlier run beside new ones, and an interrupted run leaves the old output.
"""

import contextlib
import datetime
import fcntl
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Iterator, Union

from espnet_ser.errors import Busy

PathLike = Union[str, Path]


def lock_path(directory: PathLike) -> Path:
    d = Path(directory).absolute()
    return d.parent / f".{d.name}.lock"


@contextlib.contextmanager
def hold(directory: PathLike) -> Iterator[Path]:
    """Exclusive use of ``directory`` (see the module docstring); raises :class:`Busy` when taken."""
    lock = lock_path(directory)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "unknown holder"
        os.close(fd)
        raise Busy(f"{directory} is in use by another run ({holder}); wait for it to end or write elsewhere") from None
    try:
        os.ftruncate(fd, 0)
        now = datetime.datetime.now().isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {now}: {' '.join(sys.argv)[:300]}\n".encode(), 0)
        yield Path(directory)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def build_aside(directory: PathLike) -> Iterator[Path]:
    """Yield an empty sibling directory; when the block ends without error it replaces ``directory``."""
    out = Path(directory)
    tmp = out.parent / f".{out.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
