"""A paper-sized SER model (HuBERT-large-sized frontend with random weights + the paper's conformer
and decoder) written as an ESPnet exp dir config, for the training and inference benchmarks."""

from pathlib import Path

import yaml

from bench.common import ROOT


def paper_config(out_dir: Path, hubert_dir: Path, variant: str = "hierarchical_dc", **overrides) -> Path:
    """conf/train_ser_<variant>.yaml with the frontend pointed at a local HF HuBERT directory."""
    conf = yaml.safe_load((ROOT / "conf" / f"train_ser_{variant}.yaml").read_text())
    conf["frontend"] = "hf_hubert"
    conf["frontend_conf"] = {"path_or_name": str(hubert_dir)}
    conf.update(use_matplotlib=False, use_tensorboard=False, num_workers=0, **overrides)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "config.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def dry_run_exp(config: Path, exp: Path) -> Path:
    """ESPnet's --dry_run: writes exp/config.yaml with every option filled in (no data needed)."""
    from espnet_ser.model.task import SERTask

    SERTask.main(cmd=["--config", str(config), "--dry_run", "true", "--output_dir", str(exp)])
    return exp / "config.yaml"
