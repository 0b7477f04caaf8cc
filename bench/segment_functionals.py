"""Probe (issue 25): closed-form members on openSMILE functionals of fixed windows, beside the whole utterance's.

    python bench/segment_functionals.py MANIFEST_CSV [--windows 1.0:0.5,2.0:1.0] [--cache DIR]

Not what the recipes run: the CPU openSMILE configuration computes one functionals vector per utterance. This
measures, leave one speaker out, what members on windows of each utterance would add to its closed-form part:

* **whole**: the configuration's three kernel ridge members (ComParE_2016, eGeMAPSv02, emobase functionals of
  the whole utterance, each speaker's vectors z-scored over that speaker's utterances; the decoder's own
  ``KernelRidge`` with the config's ``ridge``, ``ridge_temperature`` and ``ridge_gamma_scale``);
* **windows L:S**: the functionals of every window of L seconds, shifted by S (the openSMILE frontend's
  ``window`` and ``window_shift``: the last window ends at the utterance's end; an utterance shorter than L is
  one window), z-scored per speaker over that speaker's
  windows. Every training window carries its utterance's class. Per set, two members: the same kernel ridge
  over all training windows, and the decoder's shrinkage LDA (``ShrinkageLDA``, shrinkage 0.9, logits times 0.1).
  A member's distribution for an utterance is the normalised geometric mean of its windows'.

Fusion and decision as the configuration's (``fuse``, ``prior_corrected``: the decoder's functions): the
product of the members' distributions, divided by the training classes' frequencies. Prints one JSON line
per system with the pooled UA; the trained members are left out (``bench/functionals_mlp.py`` has them).
Features are cached in ``--cache`` (per set, window and path list).
"""

import argparse
import csv
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.classical_opensmile import functionals, speaker_z  # noqa: E402
from bench.functionals_mlp import config, ridge_member, ua  # noqa: E402

SETS = ("ComParE_2016", "eGeMAPSv02", "emobase")


def window_functionals(paths, feature_set: str, length: float, shift: float, cache: str):
    """(M, D) functionals of every window of every path (the frontend's ``window``: ``frontend_conf`` of
    ``frontend: opensmile``) and (M,) the index of each window's path."""
    import opensmile
    import soundfile as sf

    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    key = hashlib.sha256(("\n".join(paths) + feature_set + f"{length}:{shift}" + opensmile.__version__).encode())
    path = os.path.join(cache, f"windows_{feature_set}_{key.hexdigest()[:16]}.npz")
    if os.path.exists(path):
        saved = np.load(path)
        return saved["X"], saved["owner"]
    frontend = OpenSmileFrontend(feature_set, "functionals", window=length, window_shift=shift)
    rows, owner = [], []
    for i, p in enumerate(paths):
        y, sr = sf.read(p, dtype="float32")
        if sr != frontend.fs:
            raise SystemExit(f"{p}: {sr} Hz, the frontend reads {frontend.fs} Hz")
        rows.append(frontend.features(y))
        owner += [i] * len(rows[-1])
    X, owner = np.concatenate(rows), np.array(owner)
    os.makedirs(cache, exist_ok=True)
    np.savez(path, X=X, owner=owner)
    return X, owner


def lda_member(X: torch.Tensor, Y: np.ndarray, train: np.ndarray, classes: int) -> torch.nn.Module:
    """The decoder's shrinkage LDA member (``ShrinkageLDA``: shrinkage 0.9, its scores times 0.1) solved over
    the training rows of ``X``."""
    from espnet_ser.model.decoder.branch import ShrinkageLDA

    lda = ShrinkageLDA(X.shape[1], int(train.sum()), classes, shrinkage=0.9, temperature=0.1)
    lda.train().observe(X[train], torch.tensor(Y[train]))
    return lda.eval()


def per_utterance(window_logp: torch.Tensor, owner: np.ndarray, utterances: np.ndarray) -> torch.Tensor:
    """Each utterance's distribution: the normalised geometric mean of its windows' (log in, log out)."""
    return torch.stack([torch.log_softmax(window_logp[torch.from_numpy(owner == u)].mean(0), -1) for u in utterances])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest")
    p.add_argument("--windows", default="1.0:0.5", help="comma-separated LENGTH:SHIFT in seconds")
    p.add_argument("--cache", default="/tmp/espnet_ser_opensmile_cache")
    a = p.parse_args(argv)
    from espnet_ser.model.decoder.branch import fuse, prior_corrected

    start = time.time()
    conf = config()
    root = os.path.dirname(os.path.abspath(a.manifest))
    with open(a.manifest, newline="") as f:
        rows = sorted((r for r in csv.DictReader(f) if r["emotion"]), key=lambda r: r["utt_id"])
    paths = [os.path.join(root, r["path"]) for r in rows]
    spk = np.array([r["speaker"] for r in rows])
    names = sorted({r["emotion"] for r in rows})
    Y = np.array([names.index(r["emotion"]) for r in rows])
    K = len(names)
    whole = {s: torch.tensor(speaker_z(functionals(paths, s, a.cache), spk), dtype=torch.float32) for s in SETS}
    windows = []
    for spec in a.windows.split(","):
        length, shift = (float(v) for v in spec.split(":"))
        for s in SETS:
            X, owner = window_functionals(paths, s, length, shift, a.cache)
            windows.append((spec, s, torch.tensor(speaker_z(X, spk[owner]), dtype=torch.float32), owner))
    members = {key: {} for key in ["whole", *a.windows.split(",")]}  # key -> test speaker -> its log-distributions
    counts = {}
    for test in sorted(set(spk)):
        train, held = spk != test, np.flatnonzero(spk == test)
        counts[test] = torch.bincount(torch.tensor(Y[train]), minlength=K)
        for s in SETS:
            net = ridge_member(whole[s], Y, train, int(train.sum()), K, conf["decoder_conf"])
            with torch.no_grad():
                members["whole"].setdefault(test, []).append(torch.log_softmax(net(whole[s][held]), -1))
        for spec, s, Xt, owner in windows:
            tr, te = train[owner], np.isin(owner, held)
            for net in (ridge_member(Xt, Y[owner], tr, int(tr.sum()), K, conf["decoder_conf"]), lda_member(Xt, Y[owner], tr, K)):
                with torch.no_grad():
                    logp = torch.log_softmax(net(Xt[te]), -1)
                members[spec].setdefault(test, []).append(per_utterance(logp, owner[te], held))

    def report(name, keys):
        pred = np.empty_like(Y)
        for test in sorted(set(spk)):
            logp = [lp for k in keys for lp in members[k][test]]
            pred[spk == test] = prior_corrected(fuse(logp, "product"), counts[test]).argmax(-1).numpy()
        print(json.dumps({"manifest": a.manifest, "system": name, "pooled_ua": round(ua(Y, pred), 4),
                          "seconds": round(time.time() - start, 1), "machine": platform.processor() or platform.machine(),
                          "date": time.strftime("%Y-%m-%d")}), flush=True)

    report("whole: the configuration's three kernel ridge members", ["whole"])
    for spec in a.windows.split(","):
        report(f"whole + windows {spec}: ridge and shrinkage LDA per set", ["whole", spec])
        report(f"windows {spec} alone", [spec])
    if len(members) > 2:
        report("whole + every window size", list(members))


if __name__ == "__main__":
    main()
