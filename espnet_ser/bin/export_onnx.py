"""Export a trained SER model (audio in, class probabilities and V/A/D out) as ONNX.

    python -m espnet_ser.bin.export_onnx --model exp/ser_x/model.zip --out exp/ser_x/model.onnx
    python -m espnet_ser.bin.ser_inference --backend onnx --model exp/ser_x/model.onnx --out DIR a.wav

The graph, its input and outputs, opset, dynamic axis and metadata are described in
``espnet_ser.inference.onnx``. The export is checked against torch on random inputs; the largest output
difference is printed and stored in the graph's metadata.
"""

import argparse
import json
from pathlib import Path

from espnet_ser.errors import InputError, check_output_file, run_cli

#: opsets accepted (17, the default, is the one the tests export and compare with onnxruntime)
OPSETS = (14, 21)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="export_onnx", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="packed model zip (pack_model) or ESPnet exp dir")
    p.add_argument("--model_file", default=None, help="checkpoint inside an exp dir (default: its best model)")
    p.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--int8", action="store_true", help="quantize the linear layers' weights to int8 (onnxruntime dynamic quantization)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if not OPSETS[0] <= args.opset <= OPSETS[1]:
        raise InputError(f"--opset {args.opset}: the export needs an opset from {OPSETS[0]} to {OPSETS[1]} (default 17)")
    check_output_file(args.out, [args.model])
    import espnet_ser.bin.espnet_quiet  # noqa: F401  (ESPnet import notice off stdout)
    from espnet_ser.inference.speech2emotion import Speech2Emotion
    from espnet_ser.inference.onnx import export_onnx

    s2e = (Speech2Emotion.from_exp_dir(args.model, args.model_file) if args.model.is_dir() and args.model_file
           else Speech2Emotion.from_pretrained(args.model))
    meta = export_onnx(s2e, args.out, opset=args.opset, int8=args.int8)
    check = json.loads(meta["export_check"])
    print(f"export_onnx: {args.model} -> {args.out} ({args.out.stat().st_size / 1e6:.1f} MB; outputs "
          f"{', '.join(json.loads(meta['outputs']))}; inputs up to {meta['max_seconds']} s; onnxruntime vs torch "
          f"max |diff| {check['max_abs_diff']:.2e} on random {check['seconds']} s inputs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="export_onnx"))
