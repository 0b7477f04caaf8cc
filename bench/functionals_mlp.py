"""In-process exploration of the CPU openSMILE configuration (docs/reproduction.md, docs/benchmarks.md).

    python bench/functionals_mlp.py MANIFEST_CSV [--fuse ComParE_2016,eGeMAPSv02,emobase] [--select last|ua]
                                    [--train_on_dev] [--lsm_weight E] [--seeds 0,1,2] [--cache DIR]

The same features as the recipe (openSMILE functionals, z-scored per speaker over that speaker's
utterances) and the same network as ``conf/tuning/train_ser_cpu_opensmile.yaml`` (per feature-set group:
the config's input dropout, one hidden layer of 64 with LeakyReLU and dropout 0.3, a linear class layer; and
for a set with ``rbf_features``, a kernel member: that many fixed random Fourier features, dropout 0.3, the class layer;
for a set with ``kernel_landmarks``, an exact-kernel member: the kernel against the fold's training vectors, columns
standardised, dropout 0.3, the class layer; for a set with ``kernel_ridge``, a kernel ridge member solved in
closed form over the fold's training vectors (the config's ``ridge``, ``ridge_temperature`` and
``ridge_gamma_scale``); CE
with the config's label smoothing; Adam 1e-3, batch 16 drawn as the config's ``shuffle_within_batch`` says (``--batches``), 40 epochs; the average of 5 epochs' weights), without ESPnet: a few seconds per fold, so that
choices can be compared over seeds on both corpora. Folds: leave one speaker out, one dev speaker drawn
per fold (seeded by seed and fold). ``--fuse A,B``: one network per comma-separated group (``A+B``:
one network on the two sets concatenated), their class distributions fused as the config's ``fusion`` says and,
with its ``prior_correction``, divided by the fold's training class frequencies (the decoder's own functions). ``--select ua``: the 5
best dev-UA epochs; ``last``: the last 5. ``--train_on_dev``: the dev speaker trains too (use with
``last``). Prints the pooled UA per seed and their mean. Features come from ``bench/classical_opensmile.py``'s
cache (run it once on the manifest first, or this computes them). ``--fuse`` and ``--lsm_weight`` default
to the config's feature sets and ``lsm_weight``; ``--no_rbf`` leaves the random-feature kernel members out,
``--no_landmarks`` the exact-kernel ones, ``--no_ridge`` the kernel ridge ones.
"""

import argparse
import csv
import os
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.classical_opensmile import functionals, speaker_z  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / "conf/tuning/train_ser_cpu_opensmile.yaml"


def config() -> dict:
    import yaml

    return yaml.safe_load(CONFIG.read_text())


def config_per_set(conf: dict, key: str) -> dict:
    """feature set -> what the recipe's config ``conf`` gives its group of the whole utterance in ``decoder_conf[key]``,
    a list with one value per group (``input_dropout``, ``rbf_features``, ``kernel_landmarks``, ``kernel_ridge``; 0 for
    each where the key is absent; the whole utterance's view comes first, so its groups are the first ones, one per
    set): the config is the one place."""
    sets = conf["frontend_conf"]["feature_set"]
    return dict(zip(sets, conf["decoder_conf"].get(key, [0] * len(sets))))


def network(size: int, dropout: float, classes: int, rbf: int = 0, landmarks: int = 0) -> torch.nn.Module:
    """The config's member: input dropout, 64 units, dropout 0.3, the class layer; ``rbf`` N > 0: the kernel
    member instead (N fixed random Fourier features, dropout 0.3, the class layer); ``landmarks`` N > 0: the
    exact-kernel member (the kernel against up to N training vectors, stored by the first epoch)."""
    from espnet_ser.model.decoder.branch import LandmarkKernel, RandomFourierFeatures

    if rbf or landmarks:
        kernel = RandomFourierFeatures(size, rbf) if rbf else LandmarkKernel(size, landmarks)
        return torch.nn.Sequential(kernel, torch.nn.Dropout(0.3), torch.nn.Linear(rbf or landmarks, classes))
    return torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(size, 64), torch.nn.LeakyReLU(0.01),
                               torch.nn.Dropout(0.3), torch.nn.Linear(64, classes))


def fit(X, Y, train, dev, seed, dropout, classes, select, lsm_weight=0.0, epochs=40, keep=5, rbf=0, landmarks=0,
        batches="epoch"):
    torch.manual_seed(seed)
    net = network(X.shape[1], dropout, classes, rbf, landmarks)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, Yt = X[train], torch.tensor(Y[train])
    g = torch.Generator().manual_seed(seed)
    states, scores = [], []
    chunks = [torch.arange(i, min(i + 16, len(Xt))) for i in range(0, len(Xt), 16)]  # ESPnet's folded sampler
    if batches == "random":  # fixed batches of a random composition
        perm = torch.randperm(len(Xt), generator=g)
        chunks = [perm[b] for b in chunks]
    for _ in range(epochs):
        net.train()
        if batches == "epoch":  # new batches every epoch
            perm = torch.randperm(len(Xt), generator=g)
            order = [perm[b] for b in chunks]
        else:  # the same batches (in utterance-id order for "fixed"), their order shuffled every epoch
            order = [chunks[i] for i in torch.randperm(len(chunks), generator=g)]
        for b in order:
            loss = torch.nn.functional.cross_entropy(net(Xt[b]), Yt[b], label_smoothing=lsm_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            scores.append(ua(Y[dev], net(X[dev]).argmax(-1).numpy()))
        states.append({k: v.clone() for k, v in net.state_dict().items()})
    best = range(epochs - keep, epochs) if select == "last" else np.argsort(scores, kind="stable")[-keep:]
    net.load_state_dict({k: sum(states[i][k] for i in best) / len(best) for k in states[0]})
    return net.eval()


def decoder_option(decoder_conf: dict, name: str):
    """The config's ``decoder_conf`` entry ``name``, or the decoder's own default where absent (read from
    ``BranchedDecoder``'s signature, so the defaults live in one place)."""
    import inspect

    from espnet_ser.model.decoder.branch import BranchedDecoder

    return decoder_conf.get(name, inspect.signature(BranchedDecoder.__init__).parameters[name].default)


def ridge_member(X, Y, train, n, classes, decoder_conf):
    """The config's kernel ridge member: the training vectors (up to ``n``) and their classes, solved in closed
    form with the config's ``ridge``, ``ridge_temperature`` and ``ridge_gamma_scale`` (the decoder's defaults
    where absent)."""
    from espnet_ser.model.decoder.branch import KernelRidge

    option = lambda name: decoder_option(decoder_conf, name)  # noqa: E731
    net = KernelRidge(X.shape[1], n, classes, option("ridge"), option("ridge_temperature"),
                      option("ridge_gamma_scale") / X.shape[1])
    net.train().observe(X[train], torch.tensor(Y[train]))
    return net.eval()


def ua(truth, pred) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(truth, pred)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifest")
    conf = config()
    p.add_argument("--fuse", default=",".join(conf["frontend_conf"]["feature_set"]))
    p.add_argument("--lsm_weight", type=float, default=conf["model_conf"].get("lsm_weight", 0.0))
    p.add_argument("--select", default="last", choices=("last", "ua"))
    p.add_argument("--train_on_dev", action="store_true")
    p.add_argument("--no_rbf", action="store_true", help="without the config's kernel members (rbf_features)")
    p.add_argument("--no_landmarks", action="store_true", help="without the config's exact-kernel members (kernel_landmarks)")
    p.add_argument("--no_ridge", action="store_true", help="without the config's kernel ridge members (kernel_ridge)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--batches", default="epoch" if conf.get("shuffle_within_batch") else "fixed",
                   choices=("epoch", "fixed", "random"),
                   help="epoch: new batches every epoch (ESPnet's shuffle_within_batch); fixed: ESPnet's folded sampler "
                        "alone on equal lengths (the same batches of consecutive utterance ids every epoch, their order "
                        "shuffled); random: the same batches of a random composition every epoch (default: as the "
                        "config trains)")
    p.add_argument("--cache", default="/tmp/espnet_ser_opensmile_cache")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    root = os.path.dirname(os.path.abspath(a.manifest))
    with open(a.manifest, newline="") as f:
        rows = sorted((r for r in csv.DictReader(f) if r["emotion"]), key=lambda r: r["utt_id"])  # the recipes' order
    paths = [os.path.join(root, r["path"]) for r in rows]
    spk = np.array([r["speaker"] for r in rows])
    names = sorted({r["emotion"] for r in rows})
    Y = np.array([names.index(r["emotion"]) for r in rows])
    groups = [g.split("+") for g in a.fuse.split(",")]
    feats = [torch.tensor(speaker_z(np.concatenate([functionals(paths, s, a.cache) for s in g], 1), spk), dtype=torch.float32)
             for g in groups]
    dropout = config_per_set(conf, "input_dropout")
    rbf = {} if a.no_rbf else config_per_set(conf, "rbf_features")
    landmarks = {} if a.no_landmarks else config_per_set(conf, "kernel_landmarks")
    ridges = {} if a.no_ridge else config_per_set(conf, "kernel_ridge")
    # members (group, rbf, landmarks, ridge), in the decoder's order: each group's network, then a kernel member
    # per group with rbf_features, then one per group with kernel_landmarks, then one with kernel_ridge (one-set
    # groups only)
    one = [(j, g[0]) for j, g in enumerate(groups) if len(g) == 1]
    members = ([(j, 0, 0, 0) for j in range(len(groups))] + [(j, rbf[s], 0, 0) for j, s in one if rbf.get(s, 0)]
               + [(j, 0, landmarks[s], 0) for j, s in one if landmarks.get(s, 0)]
               + [(j, 0, 0, ridges[s]) for j, s in one if ridges.get(s, 0)])
    from espnet_ser.model.decoder.branch import fuse, prior_corrected

    fusion, correct = (decoder_option(conf["decoder_conf"], n) for n in ("fusion", "prior_correction"))
    speakers, results = sorted(set(spk)), []
    for seed in [int(s) for s in a.seeds.split(",")]:
        pred = np.empty_like(Y)
        for k, s in enumerate(speakers):
            dev = np.random.RandomState(seed * 1000 + k).choice([t for t in speakers if t != s])
            train = (spk != s) & ((spk != dev) | a.train_on_dev)
            logits = []
            for i, (j, n_rbf, n_landmarks, n_ridge) in enumerate(members):
                X = feats[j]
                if n_ridge:
                    net = ridge_member(X, Y, train, n_ridge, len(names), conf["decoder_conf"])
                else:
                    net = fit(X, Y, train, spk == dev, seed * 100 + i, max(dropout[n] for n in groups[j]), len(names),
                              a.select, a.lsm_weight, rbf=n_rbf, landmarks=n_landmarks, batches=a.batches)
                with torch.no_grad():
                    logits.append(net(X[spk == s]))
            fused = fuse(logits, fusion)
            if correct:
                fused = prior_corrected(fused, torch.bincount(torch.tensor(Y[train]), minlength=len(names)))
            pred[spk == s] = fused.argmax(-1).numpy()
        results.append(ua(Y, pred))
    print(os.path.basename(root), vars(a), [round(r, 3) for r in results], "mean", round(float(np.mean(results)), 3), flush=True)


if __name__ == "__main__":
    main()
