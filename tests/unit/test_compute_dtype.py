"""The frozen upstream in bf16: choice of type, agreement with fp32, and the feature-cache key."""


import numpy as np
import pytest
import torch

from espnet_ser import compute_dtype
from espnet_ser.recipe.feature_cache import extract_features
from espnet_ser.inference.speech2emotion import Speech2Emotion
from espnet_ser.model.task import SERTask
from helpers import make_data_dir, tiny_hubert_config


def test_choice_of_type():
    assert compute_dtype.resolve("fp32")[0] == "fp32" and compute_dtype.resolve("bf16")[0] == "bf16"
    assert compute_dtype.resolve("auto", "cpu", flags={"avx2", "amx_bf16"}) == ("bf16", "auto: the CPU has amx_bf16")
    assert compute_dtype.resolve("auto", "cpu", flags={"avx512f", "avx512_bf16"})[0] == "bf16"
    chosen, why = compute_dtype.resolve("auto", "cpu", flags={"avx2", "avx512f"})
    assert chosen == "fp32" and "no bf16 units" in why
    if not torch.cuda.is_available():
        assert compute_dtype.resolve("auto", "cuda")[0] == "fp32"
    with pytest.raises(ValueError, match="--dtype must be one of"):
        compute_dtype.resolve("fp16")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("dtype")
    tiny_hubert_config(root, num_workers=0)
    SERTask.main(cmd=["--config", str(root / "conf.yaml"), "--dry_run", "true", "--output_dir", str(root / "exp")])
    torch.manual_seed(0)
    model = Speech2Emotion(root / "exp" / "config.yaml", None).model
    torch.save(model.state_dict(), root / "exp" / "model.pth")
    data = make_data_dir(root / "data", n=10, seed=4, dur=(0.6, 1.2))
    return root, data


def test_forced_fp32_and_bf16_run_and_agree(tiny):
    root, data = tiny
    cfg, pth = root / "exp" / "config.yaml", root / "exp" / "model.pth"
    s32 = Speech2Emotion(cfg, pth, dtype="fp32")
    s16 = Speech2Emotion(cfg, pth, dtype="bf16")
    assert s32.dtype == "fp32" and s16.dtype == "bf16"
    up = s16.model.frontend.upstream
    assert next(up.parameters()).dtype == torch.bfloat16                      # frozen weights cast ...
    assert all(p.dtype == torch.float32 for n, p in s16.model.named_parameters() if not n.startswith("frontend.upstream"))
    wavs = [line.split()[1] for line in (data / "wav.scp").read_text().splitlines()]
    for w in wavs:
        a, b = s32.predict_file(w), s16.predict_file(w)
        assert max(abs(a["vad"][k] - b["vad"][k]) for k in a["vad"]) <= 0.02
        assert max(abs(a["probs"][c] - b["probs"][c]) for c in a["probs"]) <= 0.02
    # the layer features themselves: cosine similarity of fp32 and bf16 upstream outputs
    import soundfile as sf

    x = torch.from_numpy(sf.read(wavs[0], dtype="float32")[0])[None]
    n = torch.tensor([x.shape[1]])
    f32, _ = s32.model.frontend(x, n)
    f16, _ = s16.model.frontend(x, n)
    assert f16.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(f32.flatten(), f16.flatten(), dim=0)
    assert cos > 0.99


def test_cache_key_records_the_compute_type(tiny, tmp_path):
    root, data = tiny
    out = tmp_path / "feats"
    first = extract_features(data, out, root / "conf.yaml", dtype="float32", compute="fp32", progress=False)
    assert first["status"] == "new" and first["compute_dtype"] == "fp32"
    assert extract_features(data, out, root / "conf.yaml", dtype="float32", compute="fp32", progress=False)["status"] == "reused"
    f32 = {p.name: np.load(p) for p in (out / "npy").glob("*.npy")}
    again = extract_features(data, out, root / "conf.yaml", dtype="float32", compute="bf16", progress=False)
    assert again["status"] == "rebuilt" and again["compute_dtype"] == "bf16" and again["extracted_now"] == 10
    for name, a in f32.items():
        b = np.load(out / "npy" / name)
        assert a.shape == b.shape
        assert float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())) > 0.99
