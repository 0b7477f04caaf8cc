"""Output directories that two runs cannot write at once, and outputs swapped in whole.

:func:`hold` takes an exclusive ``flock`` on ``<parent>/.<name>.lock`` for as long as the block runs; a
second run meets a one-line refusal naming the holder (pid, host, start, command). The kernel drops
the lock when its process ends, however it ends, so the lock of a killed run never blocks the next
one (the file stays; its text is only information). ``ser.sh`` holds the same kind of lock on its
data, dump and exp dirs for the whole run (``flock`` in the shell).

:func:`build_aside` writes a directory next to its final place and swaps it in when complete: a re-run
never leaves files of an earlier run beside new ones, and an interrupted or failing run (``check`` raises)
leaves the old output as it was.

:func:`claim_output` is the one rule for a directory that a run replaces whole: it must be new, empty or
one of ours (marked with ``OUTPUT_MARK`` by :func:`build_aside`), and it must not hold the run's input.
So a mistyped output path never deletes a user's files.
"""

import contextlib
import datetime
import fcntl
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

from espnet_ser.errors import Busy, InputError

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


#: the file that marks a directory as written by this toolkit (so a later run may replace it)
OUTPUT_MARK = ".espnet_ser_output"
#: files that mark outputs of versions before OUTPUT_MARK existed
_EARLIER_MARKS = ("prep_report.json",)


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def claim_output(directory: PathLike, inputs: Sequence[PathLike] = ()) -> Path:
    """Refuse ``directory`` as an output that a run replaces whole unless it is new, empty or ours, and
    unless it is clear of every path in ``inputs`` (returns it; raises :class:`InputError`)."""
    out = Path(directory)
    resolved = out.resolve()
    for src in inputs:
        src_r = Path(src).resolve()
        if _inside(src_r, resolved):
            raise InputError(f"{out}: the output directory holds the input {src}; it is replaced whole, so write "
                             "the output somewhere else")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"{out}: exists and is not a directory; give a new directory as output")
    if out.is_dir() and any(out.iterdir()) and not any((out / m).is_file() for m in (OUTPUT_MARK, *_EARLIER_MARKS)):
        raise InputError(f"{out}: not empty and not written by espnet-ser ({OUTPUT_MARK} missing); it would be "
                         "replaced whole, so give a new or empty directory (or remove this one yourself)")
    return out


@contextlib.contextmanager
def build_aside(directory: PathLike, check: Optional[Callable[[Path], None]] = None) -> Iterator[Path]:
    """Yield an empty sibling directory; when the block ends without error and ``check(tmp)`` passes it
    replaces ``directory`` (marked as ours). Call :func:`claim_output` first."""
    out = Path(directory)
    tmp = out.parent / f".{out.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        if check is not None:
            check(tmp)
        (tmp / OUTPUT_MARK).write_text("written by espnet-ser; a re-run replaces this directory whole\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
