"""Train (or collect stats for) an SER model with ESPnet's trainer: ``python -m espnet_ser.bin.ser_train --help``."""

import espnet_ser.bin.espnet_quiet  # noqa: F401  (keeps ESPnet's import-time notice off stdout)
from espnet_ser.errors import run_cli
from espnet_ser.model.task import SERTask


def get_parser():
    return SERTask.get_parser()


def main(cmd=None) -> int:
    """Run SER training; ``cmd`` is a list of arguments (default: ``sys.argv[1:]``)."""
    SERTask.main(cmd=cmd)
    return 0


if __name__ == "__main__":  # a bad option value or input (UserError) is one line, not a traceback
    raise SystemExit(run_cli(main, prog="ser_train"))
