"""Run a config's frozen frontend once over data dirs and store the features (see espnet_ser.recipe.feature_cache).

    python -m espnet_ser.bin.extract_feats --config conf/train_ser_hierarchical_dc.yaml \\
        --src dump/raw --dst dump/feats --device cuda            # every dir of dump/raw/splits.tsv
    python -m espnet_ser.bin.extract_feats --config CONF --data_dir dump/raw/x --out_dir dump/feats/x

Training then reads the cache with the arguments in ``<out>/frontend_args`` (``--frontend cached ...``).
"""

import argparse
import sys
import json
from pathlib import Path

import espnet_ser.bin.espnet_quiet  # noqa: F401  (ESPnet import notice off stdout)
from espnet_ser.recipe.feature_cache import extract_features
from espnet_ser.compute_dtype import resolve
from espnet_ser.errors import run_cli
from espnet_ser.locks import hold


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="extract_feats", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, required=True, help="training YAML whose frontend (and frontend_conf) is run")
    p.add_argument("--frontend_conf", action="append", default=[], metavar="KEY=VALUE", help="override a frontend_conf entry (repeatable)")
    p.add_argument("--src", type=Path, help="data root with splits.tsv: extract every data dir it lists")
    p.add_argument("--dst", type=Path, help="feature root (same relative layout; splits.tsv copied)")
    p.add_argument("--data_dir", type=Path, help="one data dir (instead of --src)")
    p.add_argument("--out_dir", type=Path, help="its feature dir (with --data_dir)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"],
                   help="float type the frozen upstream computes in (default auto: bf16 where the CPU/GPU has bf16 "
                        "units, else fp32); recorded in the cache key")
    p.add_argument("--store_dtype", default="auto", choices=["auto", "float16", "float32"],
                   help="storage type (default auto: float16 for the SSL upstreams' bounded activations, float32 for "
                        "fbank and openSMILE, whose values exceed float16's range)")
    p.add_argument("--batch_seconds", type=float, default=None,
                   help="padded audio per batch in seconds (default: 200 on CUDA, 10 on CPU, where big padded batches run slower)")
    p.add_argument("--max_items", type=int, default=64, help="utterances per batch at most (default 64)")
    p.add_argument("--no_sort", action="store_true", help="do not group utterances of similar length (naive batching)")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    if args.data_dir is not None:
        if args.out_dir is None:
            get_parser().error("--data_dir needs --out_dir")
        pairs = [(args.data_dir, args.out_dir)]
    elif args.src is not None and args.dst is not None:
        from espnet_ser.recipe.plan import data_dirs, read_splits, write_splits

        splits = read_splits(args.src / "splits.tsv")
        pairs = [(args.src / rel, args.dst / rel) for rel in data_dirs(splits)]
        write_splits(splits, args.dst / "splits.tsv")
    else:
        get_parser().error("give --src and --dst, or --data_dir and --out_dir")
    chosen, why = resolve(args.dtype, args.device)
    print(f"extract_feats: frozen upstream in {chosen} ({why})", file=sys.stderr)
    shared = {}  # an utterance listed by several data dirs is extracted once (recipe.feature_cache)
    for src, dst in pairs:
        with hold(dst):  # one extraction per cache dir; an interrupted one is resumed by the next run
            r = extract_features(src, dst, args.config, args.frontend_conf, args.device, args.store_dtype, args.batch_seconds,
                                 not args.no_sort, max_items=args.max_items, progress=not args.no_progress,
                                 compute=args.dtype, shared=shared)
        print(f"{src} -> {dst}: {json.dumps(r)}")
    if args.dst is not None and pairs:
        (args.dst / "frontend_args").write_text((pairs[0][1] / "frontend_args").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(run_cli(main, prog="extract_feats"))
