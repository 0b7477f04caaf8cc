"""Compare trainings of one recipe beyond accuracy (e.g. hard vs soft targets): COMPARE.md and figures.

    python -m espnet_ser.bin.ser_compare --recipe iemocap --run hard=exp_hard --run soft=exp_soft --out DIR

Each ``--run LABEL=EXP_ROOT`` names an experiment root of the recipe (``exp/*/meta.json`` with
predictions in ``inference/<test>/``; inference with ``--mc_dropout S`` adds the MC-dropout
uncertainty). What each number means: ``espnet_ser.evaluation.compare`` and the table's legend.
"""

import argparse
from pathlib import Path

from espnet_ser.errors import InputError, run_cli
from espnet_ser.evaluation.compare import build_comparison


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", required=True, help="the recipe of every run (python -m espnet_ser.bin.recipe fact recipes)")
    p.add_argument("--run", action="append", required=True, metavar="LABEL=EXP_ROOT", help="a labelled experiment root; repeat")
    p.add_argument("--out", type=Path, required=True, help="directory for COMPARE.md, compare.json and figures/")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    sources = {}
    for item in args.run:
        label, sep, root = item.partition("=")
        if not sep or not label or not root:
            raise InputError(f"--run {item!r}: expected LABEL=EXP_ROOT")
        if label in sources:
            raise InputError(f"--run: label {label!r} given twice")
        sources[label] = Path(root)
    path = build_comparison(sources, args.recipe, args.out)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_compare"))
