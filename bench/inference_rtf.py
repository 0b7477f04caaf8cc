"""Benchmark 4: CPU inference real-time factor and peak memory of the paper-sized model on long files.

    python bench/inference_rtf.py --durations 10 60 600 --dtypes fp32 bf16 onnx onnx_int8

Each file is scored in a fresh process (peak RSS = ru_maxrss of that process) through
Speech2Emotion.predict_file (20-s windows). RTF = processing time / audio duration (model build
excluded). ``--dtypes``: torch with the frozen upstream in fp32 and/or bf16 (``Speech2Emotion(dtype=...)``),
and onnxruntime on the exported graph (``onnx``: fp32; ``onnx_int8``: linear-layer weights quantized
to int8), each file and backend in its own process (2 threads), alternating per duration. Targets: RTF <= 0.08 with bf16
units (<= 0.5 otherwise) and flat memory up to 600 s.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, report  # noqa: E402

CHILD = """
import json, resource, sys, time
if sys.argv[3].startswith("onnx"):
    from espnet_ser.inference.onnx import OnnxSpeech2Emotion
    s2e = OnnxSpeech2Emotion(sys.argv[1], threads=2)
else:
    from espnet_ser.inference.speech2emotion import Speech2Emotion
    s2e = Speech2Emotion(sys.argv[1], None, dtype=sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); out = s2e.predict_file(sys.argv[2]); t = time.perf_counter() - t0
print(json.dumps({"seconds": t, "windows": out["windows"], "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_after_build_mb": base / 1024}))
"""

EXPORT = """
import sys, time
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.inference.onnx import export_onnx
s2e = Speech2Emotion(sys.argv[1], None)
t0 = time.perf_counter()
check = export_onnx(s2e, sys.argv[2], int8=sys.argv[3] == "onnx_int8")["export_check"]
print(check[:-1] + ', "export_seconds": %.1f}' % (time.perf_counter() - t0))
"""


def env_of():
    return {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "2", "HF_HUB_OFFLINE": "1"}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--durations", type=float, nargs="+", default=[10, 60, 600])
    p.add_argument("--dtypes", nargs="+", default=["fp32"], choices=["fp32", "bf16", "onnx", "onnx_int8"])
    args = p.parse_args()
    from bench.paper_model import dry_run_exp, paper_config
    from espnet_ser.testing.hubert_checkpoints import save_hf_hubert
    from espnet_ser.testing.synthetic_audio import write_tone

    tmp = Path(tempfile.mkdtemp(prefix="bench_rtf_"))
    try:
        hub = save_hf_hubert(tmp / "hubert_large", size="large")
        config = dry_run_exp(paper_config(tmp / "conf", hub), tmp / "exp")
        models = {d: config for d in ("fp32", "bf16")}
        for kind in [d for d in args.dtypes if d.startswith("onnx")]:
            models[kind] = tmp / f"{kind}.onnx"
            r = subprocess.run([sys.executable, "-c", EXPORT, config, models[kind], kind], check=True, env=env_of(),
                               capture_output=True, text=True)
            report("onnx_export", kind=kind, mb=round(models[kind].stat().st_size / 1e6),
                   **json.loads(r.stdout.strip().splitlines()[-1]))
        for d in args.durations:
            wav = tmp / f"tone_{int(d)}s.wav"
            write_tone(wav, d, 16000, 1)
            for dtype in args.dtypes:
                r = subprocess.run([sys.executable, "-c", CHILD, models[dtype], wav, dtype], capture_output=True, text=True,
                                   env=env_of(), check=True)
                res = json.loads(r.stdout.strip().splitlines()[-1])
                report("inference_rtf", dtype=dtype, audio_seconds=d, windows=res["windows"], rtf=round(res["seconds"] / d, 3),
                       peak_rss_mb=round(res["peak_rss_mb"]), rss_after_model_build_mb=round(res["rss_after_build_mb"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
