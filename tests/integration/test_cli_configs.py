"""ser_train's --print_config parses back and its --help lists every registry."""

import subprocess
import sys

import yaml


from helpers import ROOT


def ser_train(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "espnet_ser.bin.ser_train", *args], cwd=cwd, capture_output=True, text=True,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )


def test_print_config_parses_back(tmp_path):
    r = ser_train("--config", str(ROOT / "conf/train_ser_hierarchical_cd.yaml"), "--print_config", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    conf = yaml.safe_load(r.stdout)
    assert conf["decoder"] == "hierarchical_cd" and conf["pooling"] == "self_attentive"
    assert conf["encoder_conf"]["num_blocks"] == 4 and conf["model_conf"]["alpha"] == 1.0
    (tmp_path / "printed.yaml").write_text(r.stdout)
    r2 = ser_train("--config", str(tmp_path / "printed.yaml"), "--print_config", cwd=tmp_path)
    assert r2.returncode == 0 and yaml.safe_load(r2.stdout) == conf


def test_help_lists_the_registries(tmp_path):
    r = ser_train("--help", cwd=tmp_path)
    assert r.returncode == 0
    for opt in ("--frontend", "--pooling", "--decoder", "--class_list", "--model_conf", "hierarchical_dc"):
        assert opt in r.stdout
