"""The recipe's systems (classical, fusion) beside the decoder variants: which config each variant reads, and the
mistakes refused before any stage runs (one line naming the config)."""

import pytest
import yaml
from helpers import ROOT

from espnet_ser.errors import InputError
from espnet_ser.recipe.plan import Split, configs_of, feats_type, plan_stage, shared_frontend_config

TEMPLATE = str(ROOT / "conf/tuning/cpu_opensmile_{variant}.yaml")


def test_each_variant_reads_its_own_config_and_the_frontend_comes_from_a_featured_one():
    got = configs_of(TEMPLATE, ["classical", "baseline_d", "fusion"])
    assert got == {v: TEMPLATE.format(variant=v) for v in ("classical", "baseline_d", "fusion")}
    assert shared_frontend_config(TEMPLATE, ["fusion", "baseline_d", "classical"]) == TEMPLATE.format(variant="baseline_d")
    assert shared_frontend_config(TEMPLATE, ["fusion", "classical", "baseline_d"]) == TEMPLATE.format(variant="classical")


@pytest.mark.parametrize("variants, fragment", [
    (["fusion"], "(here: none); name them in --variants too"),
    (["classical", "fusion"], "(here: classical); name them in --variants too"),  # the fused network is not in the run
])
def test_a_fusion_needs_the_systems_it_fuses(variants, fragment):
    with pytest.raises(InputError, match="fusion"):
        try:
            shared_frontend_config(TEMPLATE, variants)
        except InputError as e:
            assert fragment in str(e), e
            raise


def test_a_config_of_the_wrong_kind_is_refused(tmp_path):
    (tmp_path / "ser_classical.yaml").write_text(yaml.safe_dump({"frontend": "opensmile"}))  # an ESPnet config
    with pytest.raises(InputError, match="variant classical needs system: classical"):
        configs_of(str(tmp_path / "ser_{variant}.yaml"), ["classical"])
    (tmp_path / "ser_baseline_d.yaml").write_text(yaml.safe_dump({"system": "classical"}))
    with pytest.raises(InputError, match="variant baseline_d needs an ESPnet training config"):
        configs_of(str(tmp_path / "ser_{variant}.yaml"), ["baseline_d"])


def test_the_classical_system_reads_the_feature_cache(tmp_path):
    with pytest.raises(InputError, match="feats_type cached"):
        feats_type(TEMPLATE, ["classical"], "raw")
    split = Split("fold1", 1, None, "c/fold1/train", "c/fold1/dev", {"c": "c/fold1/test"})
    with pytest.raises(InputError, match="feats_type cached"):
        plan_stage("train", "emodb", [split], tmp_path, tmp_path / "exp", ["classical"], TEMPLATE)
    jobs = plan_stage("train", "emodb", [split], tmp_path / "raw", tmp_path / "exp", ["classical"], TEMPLATE,
                      feats_root=tmp_path / "feats")
    args = [str(a) for a in jobs[0]["args"]]
    assert args[:3] == ["fit", "--config", TEMPLATE.format(variant="classical")]
    assert args[args.index("--train") + 1] == str(tmp_path / "feats/c/fold1/train")  # the cache, not the audio dir


def test_systems_on_other_features_than_the_networks_are_refused(tmp_path):
    """One stage-4 cache serves every variant: a classical config whose frontend differs from the network's is
    refused naming both configs."""
    for v in ("classical", "baseline_d"):
        conf = yaml.safe_load((ROOT / f"conf/tuning/cpu_opensmile_{v}.yaml").read_text())
        if v == "classical":
            conf["frontend_conf"]["window"] = [0, 1.0]
            conf["frontend_conf"]["window_shift"] = [None, 0.5]
            conf["members"] = [m for m in conf["members"] if m["view"] != 2.0]
        (tmp_path / f"c_{v}.yaml").write_text(yaml.safe_dump(conf))
    with pytest.raises(InputError, match="c_classical.yaml and .*c_baseline_d.yaml differ in frontend"):
        shared_frontend_config(str(tmp_path / "c_{variant}.yaml"), ["classical", "baseline_d"])


def test_a_network_is_not_trained_on_a_cache_of_other_features(tmp_path):
    """The cache's key records what made it; a config asking for other features (here other windows) is refused
    when its stats and training jobs are planned, naming the key file."""
    import json

    from espnet_ser.recipe.feature_cache import cache_key, check_cache_matches, frontend_spec

    net = ROOT / "conf/tuning/cpu_opensmile_baseline_d.yaml"
    train = tmp_path / "feats/c/fold1/train"
    train.mkdir(parents=True)
    (train / "cache_key.json").write_text(json.dumps(cache_key(*frontend_spec(net), "float32")))
    split = Split("fold1", 1, None, "c/fold1/train", "c/fold1/dev", {"c": "c/fold1/test"})
    check_cache_matches(train, net)  # the config that made it (another storage type would not matter)
    conf = yaml.safe_load(net.read_text())
    conf["frontend_conf"]["window"] = [0, 1.0, 3.0]
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(conf))
    for stage in ("stats", "train"):
        with pytest.raises(InputError, match="cache_key.json: the cache holds features of frontend_conf"):
            plan_stage(stage, "emodb", [split], tmp_path / "feats", tmp_path / "exp", ["baseline_d"], str(tmp_path / "other.yaml"))
