"""Every decoder variant: forward/backward with full, partial and empty labels; frozen frontend."""


import pytest
import torch

from espnet_ser.model.task import SERTask
from espnet_ser.spec import VARIANTS

from helpers import ROOT
STATS = ["loss", "loss_ce", "loss_ccc", "ccc_valence", "ccc_arousal", "ccc_dominance", "ccc_mean", "acc"]
NAN = float("nan")


def build(variant, *extra):
    args = SERTask.get_parser().parse_args(
        ["--config", str(ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"), "--decoder", variant, *extra]
    )
    return SERTask.build_model(args)


def batch(labels):
    torch.manual_seed(0)
    speech = torch.randn(4, 8000)
    lengths = torch.tensor([8000, 6000, 5000, 3000])
    emotion = {"full": [0, 1, 2, 3], "class_only": [0, 1, 2, 3], "vad_only": [-1] * 4, "one_dim": [-1] * 4, "empty": [-1] * 4,
               "mixed": [0, -1, 2, -1]}[labels]
    vad = torch.rand(4, 3)
    if labels in ("class_only", "empty"):
        vad[:] = NAN
    if labels == "one_dim":
        vad[:, 1:] = NAN
    if labels == "mixed":
        vad[0] = NAN
        vad[2, 0] = NAN
    return dict(speech=speech, speech_lengths=lengths, emotion=torch.tensor(emotion).view(4, 1),
                emotion_lengths=torch.ones(4, dtype=torch.long), vad=vad, vad_lengths=torch.full((4,), 3))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("labels", ["full", "class_only", "vad_only", "one_dim", "empty", "mixed"])
def test_forward_backward_with_partial_labels(variant, labels):
    model = build(variant)
    loss, stats, weight = model(**batch(labels))
    assert torch.isfinite(loss) and weight.item() == 4
    assert set(STATS) <= set(stats)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad and p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    has_c, has_d = variant != "baseline_d", variant != "baseline_c"
    if labels == "empty" or (labels == "class_only" and not has_d) or (labels in ("vad_only", "one_dim") and not has_c):
        assert loss.item() == 0.0  # nothing to learn from: exactly zero, never NaN
    if labels == "one_dim" and has_c:
        assert stats["ccc_valence"] is not None and stats["ccc_arousal"] is None and stats["ccc_dominance"] is None
        assert stats["ccc_mean"] == stats["ccc_valence"]
    if labels == "full":
        assert (stats["acc"] is not None) == has_d
        assert (stats["ccc_mean"] is not None) == has_c


@pytest.mark.parametrize("variant", VARIANTS)
def test_outputs_have_paper_shapes(variant):
    model = build(variant).eval()
    out = model.predict(torch.randn(2, 8000), torch.tensor([8000, 4000]))
    if variant == "baseline_c":
        assert out["probs"] is None
    else:
        assert out["probs"].shape == (2, 5) and torch.allclose(out["probs"].sum(-1), torch.ones(2))
    if variant == "baseline_d":
        assert out["vad"] is None
    else:
        assert out["vad"].shape == (2, 3) and (out["vad"] >= 0).all()


def test_hierarchical_heads_see_both_embeddings():
    dc, cd = build("hierarchical_dc").decoder, build("hierarchical_cd").decoder
    assert dc.vad_head.linear.in_features == 64 and dc.class_head.in_features == 32
    assert cd.class_head.in_features == 64 and cd.vad_head.linear.in_features == 32
    mt = build("multitask").decoder
    assert mt.vad_head.linear.in_features == 32 and mt.class_head.in_features == 32


def test_hierarchical_dc_vad_depends_on_discrete_branch():
    model = build("hierarchical_dc").eval()
    x, lens = torch.randn(1, 8000), torch.tensor([8000])
    before = model.predict(x, lens)["vad"]
    with torch.no_grad():
        for p in model.decoder.branch_d.parameters():
            p.add_(0.5)
    assert not torch.allclose(before, model.predict(x, lens)["vad"])


def test_loss_weights_alpha_beta():
    b = batch("full")
    l1 = build("multitask", "--model_conf", "alpha=1.0", "--model_conf", "beta=0.0")(**b)[1]
    l2 = build("multitask", "--model_conf", "alpha=2.0", "--model_conf", "beta=3.0")(**b)[1]
    assert l1["loss"].item() == pytest.approx(l1["loss_ccc"].item(), rel=1e-5)
    assert l2["loss"].item() == pytest.approx(2 * l2["loss_ccc"].item() + 3 * l2["loss_ce"].item(), rel=1e-5)


def test_sizes_are_configurable():
    model = build("multitask", "--decoder_conf", "hidden_sizes=[16, 8]")
    assert model.decoder.class_head.in_features == 8


def test_soft_targets_and_agreement_weights_reach_the_loss():
    """class_targets=soft: the CE stat is the soft CE of the decoder's logits against the vote
    distribution; vad_agreement_tau: the CCC uses tau / (tau + rater std) weights."""
    from espnet_ser.model.loss import agreement_weights, ccc_loss, soft_cross_entropy

    model = build("hierarchical_cd", "--model_conf", "class_targets=soft", "--model_conf", "vad_agreement_tau=0.1").eval()
    b = batch("full")
    votes = torch.tensor([[2.0, 1.0, 0, 0, 0], [0, 3.0, 0, 0, 0], [NAN] * 5, [0, 0, 1.0, 1.0, 0]])
    raters = torch.cat([torch.rand(4, 3), torch.tensor([[0.0, 0.1, 0.3]] * 4), torch.full((4, 1), 3.0)], 1)
    with torch.no_grad():
        _, stats, _ = model(**b, emotion_votes=votes, vad_raters=raters)
        out = model.decoder(*model.encode(b["speech"], b["speech_lengths"]))
        want_ce, _ = soft_cross_entropy(out["logits"], votes, b["emotion"].view(-1))
        want_ccc, _ = ccc_loss(out["vad"], b["vad"], weights=agreement_weights(raters[:, 3:6], 0.1))
        hard = build("hierarchical_cd").eval()
        hard.load_state_dict(model.state_dict())
        _, hard_stats, _ = hard(**b, emotion_votes=votes, vad_raters=raters)
    assert stats["loss_ce"].item() == pytest.approx(want_ce.item(), rel=1e-5)
    assert stats["loss_ccc"].item() == pytest.approx(want_ccc.item(), rel=1e-5)
    assert hard_stats["loss_ce"].item() != pytest.approx(stats["loss_ce"].item(), rel=1e-3)  # the default stays hard
    with pytest.raises(Exception, match="class_targets must be one of"):
        build("baseline_d", "--model_conf", "class_targets=fuzzy")


def test_waveform_augmentation_applies_in_training_only():
    """data_aug_effects (ESPnet's DataAugmentation): speed 1.1 shortens the audio by 1/1.1, only when training."""
    import numpy as np

    from espnet_ser.model.task import SERTask

    args = SERTask.get_parser().parse_args(
        ["--config", str(ROOT / "conf/tuning/train_ser_tiny_fbank.yaml"), "--data_aug_prob", "1.0",
         "--data_aug_effects", "[[1.0, speed_perturb, {factor: 1.1}]]"])
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    out = SERTask.build_preprocess_fn(args, train=True)("u", {"speech": x.copy()})["speech"]
    assert abs(out.size - 16000 / 1.1) <= 2
    same = SERTask.build_preprocess_fn(args, train=False)("u", {"speech": x.copy()})["speech"]
    assert np.array_equal(same, x)
    with pytest.raises(ValueError, match="need mono audio input"):
        SERTask.build_preprocess_fn(args, train=True)("u", {"speech": np.zeros((10, 40), np.float32)})


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_ce_reduction_mean_or_sum_over_the_labelled_items(reduction):
    """``model_conf ce_reduction``: CE is the mean (default) or the sum (the paper's eq. 1) of
    -log p(class) over the batch's labelled utterances; the CCC term is the same either way."""
    b = batch("mixed")  # items 0 and 2 carry a class
    model = build("multitask", "--model_conf", f"ce_reduction={reduction}").eval()
    with torch.no_grad():
        probs = model.predict(b["speech"], b["speech_lengths"])["probs"].double()
        stats = model(**b)[1]
    nll = [-torch.log(probs[i, c]).item() for i, c in ((0, 0), (2, 2))]
    want = sum(nll) if reduction == "sum" else sum(nll) / 2
    assert stats["loss_ce"].item() == pytest.approx(want, rel=1e-4)
    assert stats["loss"].item() == pytest.approx(stats["loss_ccc"].item() + want, rel=1e-4)


def test_lsm_weight_smooths_the_class_targets_of_the_loss():
    """``model_conf lsm_weight: e``: the CE term is -sum_k ((1 - e) [k = class] + e / K) log p_k over the
    labelled utterances, from the model's own probabilities; out of [0, 1) is refused."""
    from espnet_ser.errors import InputError

    b = batch("mixed")  # items 0 and 2 carry a class
    model = build("multitask", "--model_conf", "lsm_weight=0.1").eval()
    with torch.no_grad():
        logp = torch.log(model.predict(b["speech"], b["speech_lengths"])["probs"].double())
        stats = model(**b)[1]
    K = logp.shape[1]
    want = sum(-sum((0.9 * (k == c) + 0.1 / K) * logp[i, k].item() for k in range(K)) for i, c in ((0, 0), (2, 2))) / 2
    assert stats["loss_ce"].item() == pytest.approx(want, rel=1e-4)
    for bad in ("1.0", "-0.1"):
        with pytest.raises(InputError, match="lsm_weight"):
            build("multitask", "--model_conf", f"lsm_weight={bad}")


def test_ce_reduction_rejects_other_values():
    from espnet_ser.errors import InputError

    with pytest.raises(InputError, match="ce_reduction must be one of"):
        build("multitask", "--model_conf", "ce_reduction=batch")
