"""Write RESULTS.md (the paper's tables with significance marks), figures and JSON summaries.

    python -m espnet_ser.bin.ser_report --table1 egs2/iemocap/ser1/exp --out egs2/iemocap/ser1

Each ``--tableN`` names an experiment root whose ``*/meta.json`` experiments have predictions in
``inference/<test>/`` (the recipe's inference stage). Table 1: IEMOCAP folds; Table 2: mismatched
(iemocap_msp recipe); Table 3: MSP-Podcast.
"""

import argparse
from pathlib import Path

from espnet_ser.report.build import build_results
from espnet_ser.report.significance import CORRECTIONS
from espnet_ser.errors import run_cli


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ser_report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table1", type=Path, help="experiment root of the IEMOCAP recipe (Table 1)")
    p.add_argument("--table2", type=Path, help="experiment root of the mismatched iemocap_msp recipe (Table 2)")
    p.add_argument("--table3", type=Path, help="experiment root of the MSP-Podcast recipe (Table 3)")
    p.add_argument("--out", type=Path, required=True, help="directory for RESULTS.md, figures/, *.json")
    p.add_argument("--header", default="", help="a paragraph put under the title (e.g. what was run)")
    p.add_argument("--correction", choices=CORRECTIONS, default="holm",
                   help="multiple-comparison correction of each table's family of tests (default holm; bh: "
                        "Benjamini-Hochberg; none)")
    p.add_argument("--show_ci", action="store_true", help="print the bootstrap 95%% interval of each tested difference in the cells")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    sources = {t: getattr(args, t) for t in ("table1", "table2", "table3") if getattr(args, t) is not None}
    if not sources:
        get_parser().error("give at least one of --table1 --table2 --table3")
    path = build_results(sources, args.out, args.header, args.correction, args.show_ci)
    print(path.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="ser_report"))
