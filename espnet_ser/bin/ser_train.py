"""Train (or collect stats for) an SER model with ESPnet's trainer: ``python -m espnet_ser.bin.ser_train --help``."""

import espnet_ser.bin.espnet_quiet  # noqa: F401  (keeps ESPnet's import-time notice off stdout)
import sys

from espnet_ser.errors import read_yaml_mapping, run_cli
from espnet_ser.model.task import SERTask


def get_parser():
    return SERTask.get_parser()


def main(cmd=None) -> int:
    """Run SER training; ``cmd`` is a list of arguments (default: ``sys.argv[1:]``). The ``--config``
    file is read first with the toolkit's YAML reader, so a syntax error or a tag is one line naming the
    file and line (ESPnet's own reading would end in a traceback)."""
    args = list(sys.argv[1:] if cmd is None else cmd)
    for i, a in enumerate(args):
        if a == "--config" and i + 1 < len(args):
            read_yaml_mapping(args[i + 1], "--config")
        elif a.startswith("--config="):
            read_yaml_mapping(a.split("=", 1)[1], "--config")
    SERTask.main(cmd=args)
    return 0


if __name__ == "__main__":  # a bad option value or input (UserError) is one line, not a traceback
    raise SystemExit(run_cli(main, prog="ser_train"))
