"""Errors a person can act on, and the CLI wrapper that shows them as one line.

A :class:`UserError` is about the input (a file, a line, an option): the CLIs print
``<prog>: error: <message>`` on one line and exit 2. With ``--debug`` on the command line or
``ESPNET_SER_DEBUG=1`` in the environment the traceback is shown as well. Any other exception is a
programming error and keeps its traceback.

``InputError`` is also a ``ValueError`` and ``MissingInput`` also a ``FileNotFoundError``, so callers
that catch the built-in types keep working.

What the operating system refuses (``OSError``: a read-only or full disk, a permission, a directory where
a file belongs) is about the environment, not the code: the CLIs print it as one line too, naming the
file and the system's reason, and exit 2.
"""

import os
import sys
from typing import Callable, List, Optional


class UserError(Exception):
    """Bad input: the message says what, where (file:line) and what to do."""


class InputError(UserError, ValueError):
    pass


class MissingInput(UserError, FileNotFoundError):
    pass


class Busy(UserError, RuntimeError):
    """An output directory is in use by another run."""


def run_cli(main: Callable[[Optional[List[str]]], int], argv: Optional[List[str]] = None, prog: str = "") -> int:
    """Run ``main(argv)``; a UserError becomes one line on stderr and exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ESPNET_SER_DEBUG", "") not in ("", "0")
    args = [a for a in args if a != "--debug"]
    try:
        return main(args)
    except (UserError, OSError) as e:
        if debug:
            raise
        name = prog or os.path.basename(sys.argv[0] or "espnet_ser")
        print(f"{name}: error: {describe(e)} (--debug or ESPNET_SER_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2


def describe(e: BaseException) -> str:
    """One line: a UserError's message; an OSError's file and the system's reason."""
    if isinstance(e, UserError) or not isinstance(e, OSError):
        return " ".join(str(e).split("\n"))
    where = " -> ".join(str(f) for f in (e.filename, e.filename2) if f is not None)
    reason = e.strerror or str(e)
    return f"{where}: {reason}" if where else reason


def check_output_file(path, inputs=(), flag: str = "--out") -> None:
    """Refuse, in one line, an output file path that is a directory, an existing non-regular file (a device, a
    FIFO, a socket: a temp file renamed over it would replace it), or one of the command's ``inputs`` (files;
    a directory stands for the files directly in it).

    >>> check_output_file("/dev/null")
    Traceback (most recent call last):
    ...
    espnet_ser.errors.InputError: --out /dev/null: exists and is not a regular file; refused (give a new file's path)
    """
    import os
    from pathlib import Path

    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag} {p}: a directory; give the file to write")
    if os.path.lexists(p) and not p.is_file():
        raise InputError(f"{flag} {p}: exists and is not a regular file; refused (give a new file's path)")
    if not p.exists():
        return
    for i in inputs:
        q = Path(i)
        files = [f for f in q.iterdir() if f.is_file()] if q.is_dir() else [q]
        if any(f.exists() and os.path.samefile(f, p) for f in files):
            raise InputError(f"{flag} {p}: is an input of this command ({q}); give another path")


def read_yaml_mapping(path, what: str = "config") -> dict:
    """A YAML file whose top level is a mapping, read with ``yaml.safe_load`` (no tags that build
    objects); a missing file, a syntax error, a tag or another top level is an error naming the file
    (and the line)."""
    from pathlib import Path

    import yaml

    p = Path(path)
    if not p.is_file():
        raise MissingInput(f"{p}: {what} not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: {what} is not UTF-8 text ({e.reason})") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{where}: {what} is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise InputError(f"{p}: {what} must be a YAML mapping (key: value lines), got {type(data).__name__}")
    return data
