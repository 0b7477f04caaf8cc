"""The report at MSP-Podcast Test1 size: ``ser_report --table3`` on five synthetic variants, and one
paired bootstrap, with the current significance code and with an earlier commit's, side by side.

    python bench/report_scale.py [--utterances 44395] [--before de48825] [--repeats 1]

The experiment root holds the paper's five variants on one ``msp`` test set of ``--utterances``
utterances (random predictions around the references, seeded; Test1's size by default). Each
implementation runs in its own process (``--impl``, for the peak memory): ``now`` is this checkout;
``before`` loads ``espnet_ser/evaluation/significance.py`` of commit ``--before`` (``git show``) and
puts its ``paired_bootstrap`` and ``bootstrap_std`` where the tables use them. Prints one JSON line per
implementation (wall time of the report and of one UA and one CCC bootstrap at N_BOOT draws, the
process's peak RSS) and the p-values of both, which must be equal.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

from bench.common import ROOT, report  # noqa: E402

CLASSES = ["neutral", "angry", "happy", "sad", "disgust"]


def build(root: Path, n: int) -> Path:
    """A Table 3 experiment root: the reference dir and five variants' predictions (seeded)."""
    from espnet_ser.inference.predictions import Predictions, write_predictions
    from espnet_ser.labels import Utterance, write_data_dir
    from espnet_ser.spec import VARIANT_OUTPUTS, VARIANTS

    rng = np.random.default_rng(0)
    cls = rng.integers(0, 5, n)
    vad = np.clip(rng.uniform(0, 1, (n, 3)), 0, 1)
    utts = [Utterance(f"MSP-PODCAST_{i:06d}", f"/nonexistent/{i}.wav", f"spk{i % 997}", CLASSES[c], tuple(v))
            for i, (c, v) in enumerate(zip(cls, vad))]
    ref = write_data_dir(utts, root / "ref")
    ids = sorted(u.utt_id for u in utts)
    order = np.argsort([u.utt_id for u in utts])
    for k, variant in enumerate(VARIANTS):
        # systems a little apart (differences of a few hundredths: p-values between the extremes)
        logits = rng.normal(0, 1, (n, 5)) + (1.0 + 0.01 * k) * np.eye(5)[cls]
        probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        hyp_vad = np.clip(vad + rng.normal(0, 0.40 - 0.002 * k, (n, 3)), 0, 1)
        outputs = VARIANT_OUTPUTS[variant]
        e = root / "exp" / f"ser_{variant}"
        write_predictions(Predictions(ids, CLASSES if "emotion" in outputs else None,
                                      probs[order] if "emotion" in outputs else None,
                                      hyp_vad[order] if "vad" in outputs else None), e / "inference" / "msp")
        (e / "meta.json").write_text(json.dumps({"recipe": "msp_podcast", "variant": variant, "tag": e.name,
                                                 "tests": {"msp": str(ref)}}))
    return root / "exp"


def use_before(commit: str) -> None:
    """Put commit's paired_bootstrap / bootstrap_std where the tables call them."""
    from espnet_ser.evaluation import tables

    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:espnet_ser/evaluation/significance.py"],
                         check=True, capture_output=True, text=True).stdout
    old = types.ModuleType("significance_before")
    exec(compile(src, f"{commit}:significance.py", "exec"), old.__dict__)
    tables.paired_bootstrap, tables.bootstrap_std = old.paired_bootstrap, old.bootstrap_std


def run_one(args) -> None:
    from espnet_ser.bin import ser_report
    from espnet_ser.evaluation import tables
    from espnet_ser.evaluation.runs import by_variant, load_runs

    if args.impl == "before":
        use_before(args.before)
    exp = Path(args.exp)
    runs = load_runs(exp)
    aggs = by_variant(runs, "msp")
    from espnet_ser.spec import BASELINES, VARIANTS

    joint_variant = next(v for v in VARIANTS if v not in BASELINES.values())  # the first joint model
    base_d, base_c, joint = aggs[BASELINES["emotion"]].parts, aggs[BASELINES["vad"]].parts, aggs[joint_variant].parts
    t0 = time.perf_counter()
    ua = tables.paired_bootstrap(base_d, joint, "f1_macro")
    t_ua = time.perf_counter() - t0
    t0 = time.perf_counter()
    cc = tables.paired_bootstrap(base_c, joint, "ccc_mean")
    t_ccc = time.perf_counter() - t0
    t0 = time.perf_counter()
    ser_report.main(["--table3", str(exp), "--out", str(exp.parent / f"results_{args.impl}")])
    t_report = time.perf_counter() - t0
    details = json.loads(next((exp.parent / f"results_{args.impl}").glob("*.json")).read_text())
    print(json.dumps({"impl": args.impl, "report_s": round(t_report, 2), "bootstrap_f1_s": round(t_ua, 2),
                      "bootstrap_ccc_s": round(t_ccc, 2), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "p_f1": ua["p"], "ci_f1": [ua["ci_low"], ua["ci_high"]], "p_ccc": cc["p"],
                      "ci_ccc": [cc["ci_low"], cc["ci_high"]], "details": _p_values(details)}))


def _p_values(obj, out=None):
    """Every ``p`` in the report's JSON, in order (to compare two implementations)."""
    out = [] if out is None else out
    if isinstance(obj, dict):
        for k, v in sorted(obj.items()):
            if k in ("p", "p_adj"):
                out.append(v)
            else:
                _p_values(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _p_values(v, out)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utterances", type=int, default=44395)
    p.add_argument("--before", default="de48825", help="the commit to compare with (its significance.py)")
    p.add_argument("--impl", choices=("now", "before"), help=argparse.SUPPRESS)
    p.add_argument("--exp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.impl:
        return run_one(args)
    with tempfile.TemporaryDirectory() as tmp:
        exp = build(Path(tmp), args.utterances)
        got = {}
        for impl in ("before", "now"):
            out = subprocess.run([sys.executable, __file__, "--impl", impl, "--exp", str(exp), "--before", args.before],
                                 check=True, capture_output=True, text=True).stdout
            got[impl] = json.loads(out.strip().splitlines()[-1])
        same = got["now"]["details"] == got["before"]["details"] and all(
            got["now"][k] == got["before"][k] for k in ("p_f1", "p_ccc"))
        ci_diff = max(abs(x - y) for k in ("ci_f1", "ci_ccc") for x, y in zip(got["now"][k], got["before"][k]))
        for impl in ("before", "now"):
            g = {k: v for k, v in got[impl].items() if k != "details"}
            report("report_scale", utterances=args.utterances, **g)
        report("report_scale_ratio", utterances=args.utterances, p_values_equal=same, max_ci_difference=ci_diff,
               report_speedup=round(got["before"]["report_s"] / got["now"]["report_s"], 1),
               bootstrap_f1_speedup=round(got["before"]["bootstrap_f1_s"] / got["now"]["bootstrap_f1_s"], 1),
               bootstrap_ccc_speedup=round(got["before"]["bootstrap_ccc_s"] / got["now"]["bootstrap_ccc_s"], 1),
               peak_rss_mb_before=got["before"]["peak_rss_mb"], peak_rss_mb_now=got["now"]["peak_rss_mb"])


if __name__ == "__main__":
    main()
