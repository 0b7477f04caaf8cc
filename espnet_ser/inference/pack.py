"""Pack a trained model into one zip that loads anywhere with ``Speech2Emotion.from_pretrained``.

The zip holds ``config.yaml`` (the training config, with the class list inlined and file paths made
relative to the zip), ``model.pth`` (a plain state dict of tensors, loadable with
``espnet_ser.safe_load``, weights only), ``class_list``, the feature normalisation statistics when the
config uses them (``feats_stats.npz``), the conformal calibration when the exp dir has one
(``conformal.json``: the recipe's score stage calibrates on the dev set), the experiment's ``meta.json``
and ``provenance.json`` (as ``experiment.json`` and ``provenance.json``: data, protocol, seed, commit)
and ``meta.json`` (source, model file, versions).
A frozen SSL frontend's weights are in the state dict, but building the model still constructs the
frontend from ``frontend_conf`` (s3prl/HF name or local path) before the weights are loaded.
"""

import datetime
import json
import zipfile
from pathlib import Path
from typing import Optional, Union

import torch
import yaml

import espnet_ser
from espnet_ser import safe_load
from espnet_ser.errors import MissingInput, read_yaml_mapping
from espnet_ser.class_list import load_class_list
from espnet_ser.inference.conformal import CONFORMAL_IN_EXP, CONFORMAL_NAME, load_conformal

PathLike = Union[str, Path]
STATS_NAME = "feats_stats.npz"


def pack_model(exp_dir: PathLike, out_zip: PathLike, model_file: Optional[str] = None) -> Path:
    """Pack ``exp_dir`` into ``out_zip`` (module docstring); a model card is added by
    :func:`espnet_ser.evaluation.model_card.add_card`."""
    exp = Path(exp_dir)
    model_file = model_file or best_model_pth(exp)
    conf = read_yaml_mapping(exp / "config.yaml", "exp config")
    classes = load_class_list(conf.get("class_list"))
    conf["class_list"] = classes
    state = safe_load.load(exp / model_file, map_location="cpu")
    stats = (conf.get("normalize_conf") or {}).get("stats_file")
    out = Path(out_zip)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        if stats:
            z.write(stats, STATS_NAME)
            conf["normalize_conf"]["stats_file"] = STATS_NAME
        z.writestr("config.yaml", yaml.safe_dump(conf, sort_keys=False))
        with z.open("model.pth", "w") as f:
            torch.save(state, f)
        z.writestr("class_list", "".join(c + "\n" for c in classes))
        if load_conformal(exp / CONFORMAL_IN_EXP) is not None:  # validated before it goes in
            z.write(exp / CONFORMAL_IN_EXP, CONFORMAL_NAME)
        for name, packed in (("meta.json", "experiment.json"), ("provenance.json", "provenance.json")):
            if (exp / name).is_file():  # how it was trained, for its model card
                z.writestr(packed, json.dumps(json.loads((exp / name).read_text()), indent=1) + "\n")
        meta = {"espnet_ser": espnet_ser.__version__, "torch": torch.__version__, "source": str(exp.resolve()),
                "model_file": model_file, "classes": list(classes),
                "created": datetime.datetime.now().isoformat(timespec="seconds")}
        z.writestr("meta.json", json.dumps(meta, indent=1) + "\n")
    tmp.replace(out)  # a half-written zip never takes the final name
    return out


def best_model_pth(exp_dir: PathLike) -> str:
    """The model of an exp dir, by the first ``best_model_criterion`` of its config.yaml: with
    ``keep_nbest_models`` N > 1 the average of the N best epochs (ESPnet's ``<phase>.<stat>.ave_<N>best.pth``,
    as ESPnet recipes decode with), else the best epoch (``<phase>.<stat>.best.pth``)."""
    exp = Path(exp_dir)
    conf = read_yaml_mapping(exp / "config.yaml", "exp config")
    keep = conf.get("keep_nbest_models") or 1
    keep = max(keep) if isinstance(keep, list) else int(keep)
    criteria = conf.get("best_model_criterion") or []
    names = [f"{ph}.{stat}.ave_{keep}best.pth" for ph, stat, _ in criteria] if keep > 1 else []
    names += [f"{ph}.{stat}.best.pth" for ph, stat, _ in criteria]
    for name in names + sorted(p.name for p in exp.glob("*.best.pth")):
        if (exp / name).exists():
            return name
    raise MissingInput(f"{exp}: no *.best.pth (is training finished?); looked for {names}")


def unpack_config(unzipped: Path) -> Path:
    """Point the config's relative file entries at the unzipped copies; returns config.yaml's path."""
    path = unzipped / "config.yaml"
    conf = read_yaml_mapping(path, "packed model's config.yaml")
    if (conf.get("normalize_conf") or {}).get("stats_file") == STATS_NAME:
        conf["normalize_conf"]["stats_file"] = str(unzipped / STATS_NAME)
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path
