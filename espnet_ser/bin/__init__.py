"""Thin command-line entry points (``python -m espnet_ser.bin.<name> --help``)."""

import contextlib
import sys

# ESPnet's attention module prints a flash-attention notice to stdout when it is first imported.
# Import it once with stdout sent to stderr, so that stdout carries only a command's own output
# (--print_config YAML, JSON). Nothing else is imported under the redirect: modules that bind
# sys.stdout as a default argument (AbsTask.print_config) must see the real one.
with contextlib.redirect_stdout(sys.stderr):
    import espnet.nets.pytorch_backend.transformer.attention  # noqa: F401
