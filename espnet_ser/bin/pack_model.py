"""Pack an exp dir's best model (config, weights, class list, normalisation stats) into a zip; an exp dir of the
classical system (``model.skops``) packs its system, config and ``classical.json`` (espnet_ser.classical.store.pack).

    python -m espnet_ser.bin.pack_model --exp exp/ser_hierarchical_dc_fold1 --out exp/.../model.zip
"""

import argparse
from pathlib import Path

from espnet_ser.classical import store
from espnet_ser.errors import check_output_file, run_cli


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pack_model", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", type=Path, required=True, help="ESPnet exp dir (config.yaml + *.best.pth)")
    p.add_argument("--out", type=Path, required=True, help="zip file to write")
    p.add_argument("--model_file", default=None, help="checkpoint inside --exp (default: the config's first best-model criterion)")
    p.add_argument("--card", choices=("none", "quick", "full"), default="none",
                   help="also write MODEL_CARD.md + model_card.json beside the zip and into it: test metrics with "
                        "intervals, calibration, robustness under degraded audio, compute (quick: 12 test utterances)")
    p.add_argument("--card_quick", action="store_const", const="quick", dest="card", help="the same as --card quick")
    p.add_argument("--card_test", type=Path, default=None, help="test data dir of the card (default: the experiment's first)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    check_output_file(args.out, [args.exp])
    if (args.exp / store.MODEL_NAME).is_file():  # a classical system (espnet_ser.classical)
        out = store.pack(args.exp, args.out)
    else:
        from espnet_ser.inference.pack import pack_model  # torch: only for a network

        out = pack_model(args.exp, args.out, args.model_file)
    print(f"packed {args.exp} -> {out} ({out.stat().st_size / 1e6:.1f} MB)")
    if args.card != "none":
        from espnet_ser.evaluation.model_card import add_card

        files = add_card(out, args.card == "quick", args.card_test)
        print(f"model card ({args.card}): {' '.join(map(str, files))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="pack_model"))
