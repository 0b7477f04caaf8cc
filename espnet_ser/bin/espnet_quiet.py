"""Import this before ESPnet in a CLI whose stdout must stay clean.

ESPnet's attention module prints a flash-attention notice to stdout when it is first imported. It is
imported here once with stdout sent to stderr, so that stdout carries only the command's own output
(``--print_config`` YAML, JSON). Nothing else is imported under the redirect: modules that bind
``sys.stdout`` as a default argument (``AbsTask.print_config``) must see the real one.
"""

import contextlib
import sys

with contextlib.redirect_stdout(sys.stderr):
    import espnet.nets.pytorch_backend.transformer.attention  # noqa: F401
