"""The frozen HuBERT-large-sized upstream alone, fp32 vs bf16 weights (the issue-17 micro-benchmark).

    python bench/upstream_dtype.py [--seconds 10] [--repeats 3]

One input of ``--seconds``, median of ``--repeats`` after one warm-up, ``torch.no_grad``; bf16 casts the
weights and the input (no autocast). Prints seconds per input and RTF for each type and their ratio.
"""

import argparse
import shutil
import tempfile
from pathlib import Path

from bench.common import median_time, report  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    import torch
    from transformers import HubertModel

    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert

    tmp = Path(tempfile.mkdtemp(prefix="bench_upstream_"))
    try:
        model = HubertModel.from_pretrained(save_hf_hubert(tmp / "hubert_large", size="large")).eval()
        x = torch.randn(1, int(16000 * args.seconds))
        times = {}
        with torch.no_grad():
            times["fp32"] = median_time(lambda: model(x), repeats=args.repeats)
            model.to(torch.bfloat16)
            xb = x.to(torch.bfloat16)
            times["bf16"] = median_time(lambda: model(xb), repeats=args.repeats)
        for k, t in times.items():
            report("upstream_dtype", dtype=k, input_seconds=args.seconds, seconds=round(t, 3), rtf=round(t / args.seconds, 3))
        report("upstream_dtype_ratio", fp32_over_bf16=round(times["fp32"] / times["bf16"], 2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
