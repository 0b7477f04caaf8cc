"""Errors a person can act on, and the CLI wrapper that shows them as one line.

A :class:`UserError` is about the input (a file, a line, an option): the CLIs print
``<prog>: error: <message>`` on one line and exit 2. With ``--debug`` on the command line or
``ESPNET_SER_DEBUG=1`` in the environment the traceback is shown as well. Any other exception is a
programming error and keeps its traceback.

``InputError`` is also a ``ValueError`` and ``MissingInput`` also a ``FileNotFoundError``, so callers
that catch the built-in types keep working.
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
    except UserError as e:
        if debug:
            raise
        name = prog or os.path.basename(sys.argv[0] or "espnet_ser")
        print(f"{name}: error: {e} (--debug or ESPNET_SER_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 2
