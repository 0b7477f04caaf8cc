"""Write RESULTS.md (the paper's tables with significance marks), figures and JSON summaries.

    python -m espnet_ser.bin.ser_report --table1 egs2/iemocap/ser1/exp --out egs2/iemocap/ser1

Each ``--tableN`` names the experiment root of the recipe that makes that table (``espnet_ser.spec.RECIPES``),
whose ``*/meta.json`` experiments have predictions in ``inference/<test>/`` (the recipe's inference stage).
"""

import argparse
from pathlib import Path

from espnet_ser.evaluation.report import build_results
from espnet_ser.evaluation.significance import CORRECTIONS
from espnet_ser.errors import run_cli
from espnet_ser.spec import TABLES


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for table, recipe in sorted(TABLES.items()):
        p.add_argument(f"--{table}", type=Path, help=f"experiment root of the {recipe.name} recipe ({recipe.title})")
    p.add_argument("--out", type=Path, required=True, help="directory for RESULTS.md, figures/, *.json")
    p.add_argument("--header", default="", help="a paragraph put under the title (e.g. what was run)")
    p.add_argument("--correction", choices=CORRECTIONS, default="holm",
                   help="multiple-comparison correction of each table's family of tests (default holm; bh: "
                        "Benjamini-Hochberg; none)")
    p.add_argument("--show_ci", action="store_true", help="print the bootstrap 95%% interval of each tested difference in the cells")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    sources = {t: getattr(args, t) for t in sorted(TABLES) if getattr(args, t) is not None}
    if not sources:
        get_parser().error("give at least one of " + " ".join(f"--{t}" for t in sorted(TABLES)))
    path = build_results(sources, args.out, args.header, args.correction, args.show_ci)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_report"))
