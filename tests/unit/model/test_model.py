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


def test_a_grouped_decoder_is_an_ensemble_of_one_decoder_per_group():
    """decoder_conf input_groups: each group of features has a whole decoder; the class distribution is the
    mean of theirs (numpy), V/A/D the mean of theirs, the CE loss the mean of each group's own CE (a literal
    -log softmax), and each group's gradient is that of its decoder trained alone on its slice (times 1/2,
    the mean): an ensemble of per-feature-set models trained in one model."""
    import copy

    import numpy as np

    torch.manual_seed(0)
    model = build("multitask", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "input_dropout=[0.5, 0.2]",
                  "--decoder_conf", "hidden_sizes=[8]")
    model.eval()  # no dropout: the comparisons are exact
    dec, slices = model.decoder, [(0, 40), (40, 64)]
    assert [m.branch_d.mlp[0].p for m in dec.members] == [0.5, 0.2]
    assert [m.branch_d.pooling.output_size() for m in dec.members] == [40, 24]
    b = batch("full")
    with torch.no_grad():
        hs, lens = model.encode(b["speech"], b["speech_lengths"])
        out = dec(hs, lens)
        alone = [dec.members[k](hs[..., lo:hi], lens) for k, (lo, hi) in enumerate(slices)]
    logits = [o["logits"].numpy().astype(np.float64) for o in alone]
    probs = [np.exp(x) / np.exp(x).sum(1, keepdims=True) for x in logits]
    assert np.allclose(np.exp(out["logits"].numpy()), (probs[0] + probs[1]) / 2, atol=1e-6)
    assert np.allclose(out["vad"].numpy(), (alone[0]["vad"].numpy() + alone[1]["vad"].numpy()) / 2, atol=1e-6)

    labels = b["emotion"].view(-1).numpy()
    ce = [float(np.mean(-np.log(p[np.arange(4), labels]))) for p in probs]
    loss, stats, _ = model(**b)
    assert stats["loss_ce"].item() == pytest.approx((ce[0] + ce[1]) / 2, rel=1e-5)
    model.zero_grad()
    loss.backward()
    for k, (lo, hi) in enumerate(slices):
        member = copy.deepcopy(dec.members[k])  # the group's decoder alone, on its slice of the same frames
        member.zero_grad()
        ce_k, _, ccc_k, _ = model._head_losses(member(hs[..., lo:hi], lens), b["emotion"], b["vad"], None, None)
        assert ce_k.item() == pytest.approx(ce[k], rel=1e-5)
        (model.alpha * ccc_k + model.beta * ce_k).backward()
        for (name, p), (_, q) in zip(dec.members[k].named_parameters(), member.named_parameters()):
            assert torch.allclose(p.grad * 2, q.grad, rtol=1e-4, atol=1e-7), name


def test_random_fourier_features_approximate_the_rbf_kernel():
    """z(x) . z(y) is close to exp(-|x - y|^2 / D) (gamma = 1 / D) for inputs at several distances (numpy), and
    the random draws are buffers: saved with the model, never trained."""
    import numpy as np

    from espnet_ser.model.decoder.branch import RandomFourierFeatures

    torch.manual_seed(0)
    rff = RandomFourierFeatures(16, 40000)
    x = torch.randn(6, 16) * torch.tensor([0.1, 0.3, 0.5, 1.0, 1.5, 2.0]).unsqueeze(1)
    z = rff(x).double().numpy()
    xn = x.double().numpy()
    exact = np.exp(-((xn[:, None] - xn[None]) ** 2).sum(-1) / 16)
    assert exact.min() < 0.2 and np.abs(z @ z.T - exact).max() < 0.03
    assert list(rff.parameters()) == [] and set(rff.state_dict()) == {"weight", "phase"}


def test_rbf_features_add_a_kernel_member_to_a_group():
    """decoder_conf rbf_features [0, N]: a third member reads the second group: sqrt(2/N) cos(x W + b) of its
    pooled vector (numpy), then the class layer, its only trained weights after the pooling; the class distribution is the
    mean of the three members' (numpy)."""
    import numpy as np

    torch.manual_seed(0)
    model = build("baseline_d", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "rbf_features=[0, 300]",
                  "--decoder_conf", "hidden_sizes=[8]")
    model.eval()
    dec = model.decoder
    assert dec.member_groups == [0, 1, 1] and len(dec.members) == 3
    kernel = dec.members[2]
    trained = {n for n, _ in kernel.named_parameters() if not n.startswith("branch_d.pooling.")}
    assert trained == {"class_head.weight", "class_head.bias"}  # and the pooling's: nothing between them
    b = batch("full")
    with torch.no_grad():
        hs, lens = model.encode(b["speech"], b["speech_lengths"])
        out = dec(hs, lens)
        pooled = kernel.branch_d.pooling(hs[..., 40:], lens).double().numpy()
        alone = [dec.members[k](hs[..., lo:hi], lens)["logits"].double().numpy() for k, (lo, hi) in
                 enumerate([(0, 40), (40, 64)])]
    rff = kernel.branch_d.mlp[0]
    z = np.sqrt(2 / 300) * np.cos(pooled @ rff.weight.double().numpy() + rff.phase.double().numpy())
    head = kernel.class_head
    logits = alone + [z @ head.weight.detach().double().numpy().T + head.bias.detach().double().numpy()]
    probs = [np.exp(x) / np.exp(x).sum(1, keepdims=True) for x in logits]
    assert np.allclose(np.exp(out["logits"].numpy()), sum(probs) / 3, atol=1e-5)
    assert np.allclose(out["members"][2]["logits"].numpy(), logits[2], atol=1e-4)


def members_log_probs(dec, hs, lens, spans):
    """(members, B, C) numpy: each member's own log-softmax, member k reading the features spans[k]."""
    import numpy as np

    with torch.no_grad():
        return np.stack([torch.log_softmax(dec.members[k](hs[..., lo:hi], lens)["logits"], -1).numpy()
                         for k, (lo, hi) in enumerate(spans)])


def assert_fused_is_the_members_mean(dec, hs, lens, spans):
    """In eval, the grouped decoder's class distribution is the mean of its members' softmax, member k reading
    the features spans[k] (numpy)."""
    import numpy as np

    with torch.no_grad():
        out = dec(hs, lens)
    assert np.allclose(np.exp(out["logits"].numpy()), np.exp(members_log_probs(dec, hs, lens, spans)).mean(0), atol=1e-5)


def test_landmark_kernel_stores_the_first_training_inputs_and_standardises_the_exact_kernel():
    """Training forwards store the first N distinct inputs (then no more; an input seen again, as in a later
    epoch, is not stored twice); in eval, the output is exp(-|x - l|^2 / D)
    against them, each column z-scored with its mean and (population) std over the landmarks (numpy); all
    buffers, nothing trained."""
    import numpy as np

    from espnet_ser.model.decoder.branch import LandmarkKernel

    torch.manual_seed(0)
    k = LandmarkKernel(16, 50).train()
    seen = [torch.randn(20, 16) * 2 for _ in range(4)]
    for x in seen:
        k(x)
    first = torch.cat(seen)[:50].numpy()
    assert np.array_equal(k.landmarks.numpy(), first) and k.filled.sum().item() == 50
    x = torch.randn(7, 16) * 2
    got = k.eval()(x).double().numpy()
    sq = lambda a, b: ((a[:, None].astype(np.float64) - b[None]) ** 2).sum(-1)  # noqa: E731
    kl, kx = np.exp(-sq(first, first) / 16), np.exp(-sq(x.numpy(), first) / 16)
    assert np.allclose(got, (kx - kl.mean(0)) / kl.std(0), atol=1e-4)
    assert list(k.parameters()) == [] and set(k.state_dict()) == {"landmarks", "filled", "mean", "scale"}
    low = k(x.bfloat16())  # bfloat16 inputs (torch's cdist has none on CPUs): computed in float32, given back as bfloat16
    assert low.dtype == torch.bfloat16 and np.allclose(low.double().numpy(), got, atol=0.05)
    half = LandmarkKernel(16, 50).train()
    for epoch in range(3):
        half(torch.cat([seen[0], seen[0][:3]]))  # and three repeated in the batch
    assert half.filled.sum().item() == 20 and np.array_equal(half.landmarks[:20].numpy(), seen[0].numpy()) and np.allclose(half.eval()(x).numpy()[:, 20:], 0)  # empty slots give 0
    resumed = LandmarkKernel(16, 50)
    resumed.load_state_dict(half.state_dict())  # a resumed training: what was stored is known again
    bad = torch.full((2, 16), float("nan"))
    resumed.train()(torch.cat([seen[0][:4], bad, seen[1][:5]]))  # four stored already, two with NaN: five new
    assert resumed.filled.sum().item() == 25 and np.array_equal(resumed.landmarks[20:25].numpy(), seen[1][:5].numpy())


def test_kernel_landmarks_add_an_exact_kernel_member_to_a_group():
    """decoder_conf kernel_landmarks [0, N]: a third member reads the second group: its pooled training inputs
    become the landmarks; the class distribution is the mean of the three members' (numpy)."""
    torch.manual_seed(0)
    model = build("baseline_d", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "kernel_landmarks=[0, 100]",
                  "--decoder_conf", "hidden_sizes=[8]")
    dec = model.decoder
    assert dec.member_groups == [0, 1, 1] and len(dec.members) == 3
    b = batch("full")
    model.train()
    with torch.no_grad():
        hs, lens = model.encode(b["speech"], b["speech_lengths"])
        dec(hs, lens)
        kernel = dec.members[2]
        pooled = kernel.branch_d.pooling(hs[..., 40:], lens)
    n = len(pooled)
    assert torch.equal(kernel.branch_d.mlp[0].landmarks[:n], pooled) and kernel.branch_d.mlp[0].filled.sum() == n
    model.eval()
    assert_fused_is_the_members_mean(dec, hs, lens, [(0, 40), (40, 64), (40, 64)])


@pytest.mark.parametrize("gamma", [None, 0.25 / 16])
def test_kernel_ridge_solves_a_ridge_regression_of_the_stored_classes(gamma):
    """observe() in training mode stores the labelled distinct inputs (not those of class -1, nor repeats, nor
    in eval mode) with their one-hot classes; the output is T (k(x) (K + r I)^-1 (Y - mean Y) + mean Y) over
    them, K the RBF kernel exp(-g |a - b|^2), g = 1 / D by default (numpy); nothing trained; a loaded copy gives
    the same."""
    import numpy as np

    from espnet_ser.model.decoder.branch import KernelRidge

    torch.manual_seed(0)
    k = KernelRidge(16, 60, num_classes=3, ridge=0.1, temperature=10.0, gamma=gamma).train()
    g = 1 / 16 if gamma is None else gamma
    xs = [torch.randn(20, 16) * 2 for _ in range(2)]
    ys = [torch.tensor([c % 3 if c % 4 else -1 for c in range(20)]) for _ in range(2)]
    for epoch in range(2):
        for x, y in zip(xs, ys):
            k.observe(torch.cat([x, x[:2]]), torch.cat([y, y[:2]]))  # two repeated within the batch too
    k.eval().observe(torch.randn(5, 16), torch.zeros(5, dtype=torch.long))  # not stored: eval mode
    known = [x[y >= 0] for x, y in zip(xs, ys)]
    land, cls = torch.cat(known).numpy(), torch.cat([y[y >= 0] for y in ys]).numpy()
    m = len(land)
    assert m == 30 and k.filled.sum().item() == m and np.array_equal(k.landmarks[:m].numpy(), land)
    assert np.array_equal(k.targets[:m].numpy(), np.eye(3)[cls]) and np.allclose(k.targets[m:].numpy(), 0)
    x = torch.randn(7, 16) * 2
    sq = lambda a, b: ((a[:, None].astype(np.float64) - b[None]) ** 2).sum(-1)  # noqa: E731
    Y = np.eye(3)[cls]
    coef = np.linalg.solve(np.exp(-g * sq(land, land)) + 0.1 * np.eye(m), Y - Y.mean(0))
    want = 10.0 * (np.exp(-g * sq(x.numpy(), land)) @ coef + Y.mean(0))
    assert np.allclose(k(x).double().numpy(), want, atol=1e-3)
    assert list(k.parameters()) == [] and set(k.state_dict()) == {"landmarks", "filled", "targets"}
    copy = KernelRidge(16, 60, num_classes=3, ridge=0.1, temperature=10.0, gamma=gamma).eval()
    copy(x)  # solved once over no landmarks, then loaded: solved again
    copy.load_state_dict(k.state_dict())
    assert np.allclose(copy(x).double().numpy(), want, atol=1e-3)


def test_kernel_ridge_adds_a_member_that_stores_the_training_batch_classes():
    """decoder_conf kernel_ridge [0, N]: a third member reads the second group; the model's training forward
    stores its labelled pooled inputs with their classes (not the unlabelled ones); the loss trains the others
    only; in training its distribution is uniform; in eval the class distribution is the mean of the three
    members' (numpy)."""
    torch.manual_seed(0)
    model = build("baseline_d", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "kernel_ridge=[0, 100]",
                  "--decoder_conf", "hidden_sizes=[8]")
    dec = model.decoder
    assert dec.member_groups == [0, 1, 1] and len(dec.members) == 3
    b = batch("mixed")  # classes [0, -1, 2, -1]
    model.train()
    seen = []
    hook = dec.members[2].pooling.register_forward_hook(lambda mod, inp, out: seen.append(out.detach()))
    loss, _, _ = model(**b)
    hook.remove()
    loss.backward()
    ridge, pooled = dec.members[2].ridge, seen[0]
    with torch.no_grad():  # in training its distribution is uniform: the training acc is the trained members'
        hs, lens = model.encode(b["speech"], b["speech_lengths"])
        torch.manual_seed(1)
        out = dec(hs, lens)
        torch.manual_seed(1)  # the same dropout masks, member by member
        trained = sum(torch.softmax(dec.members[k](hs[..., lo:hi], lens)["logits"], -1) for k, (lo, hi) in enumerate([(0, 40), (40, 64)]))
    assert torch.allclose(torch.exp(out["logits"]), (trained + 0.2) / 3, atol=1e-5)
    assert ridge.filled.sum() == 2 and torch.allclose(ridge.landmarks[:2], pooled[[0, 2]], atol=1e-6)
    assert ridge.targets[:2].argmax(1).tolist() == [0, 2] and list(ridge.parameters()) == []
    assert all(p.grad is None for p in dec.members[2].parameters())  # its loss trains nothing, not even its pooling
    assert all(p.grad is not None for p in dec.members[1].parameters())
    model.eval()
    assert_fused_is_the_members_mean(dec, hs, lens, [(0, 40), (40, 64), (40, 64)])


def test_a_ridge_member_over_frames_stores_every_valid_frame_and_averages_their_log_distributions():
    """decoder_conf closed_form_inputs frames: a training forward stores each valid frame of the labelled utterances
    (not padding, not class -1) with its utterance's class; in eval an utterance's logits are the mean over its
    valid frames of log softmax(T (k(x) (K + r I)^-1 (Y - mean Y) + mean Y)), computed here in numpy."""
    import numpy as np

    from espnet_ser.errors import InputError

    torch.manual_seed(0)
    conf = ["input_groups=[40, 24]", "kernel_ridge=[0, 500]", "closed_form_inputs=frames", "ridge=0.1",
            "ridge_temperature=10", "hidden_sizes=[8]"]
    model = build("baseline_d", *[a for c in conf for a in ("--decoder_conf", c)])
    dec = model.decoder
    member = dec.members[2]
    b = batch("mixed")  # classes [0, -1, 2, -1]
    seen = []  # what the member reads in the training forward: its group's frames and their lengths
    hook = member.register_forward_pre_hook(lambda mod, args: seen.append((args[0].detach().clone(), args[1].clone())))
    model.train()
    model(**b)
    hook.remove()
    hs, lens = seen[0]
    x, n = hs.double().numpy(), lens.tolist()
    assert len(set(n)) > 1 and max(n) == hs.shape[1]  # padded frames exist
    land = np.concatenate([x[0, :n[0]], x[2, :n[2]]])
    cls = np.array([0] * n[0] + [2] * n[2])
    m = len(land)
    assert member.ridge.filled.sum().item() == m
    assert np.allclose(member.ridge.landmarks[:m].numpy(), land, atol=1e-6)
    assert member.ridge.targets[:m].argmax(1).tolist() == cls.tolist()
    with torch.no_grad():
        out = member.eval()(hs, lens)["logits"].double().numpy()
    g = 1 / 24
    sq = lambda a, c: ((a[:, None] - c[None]) ** 2).sum(-1)  # noqa: E731
    Y = np.eye(5)[cls]
    coef = np.linalg.solve(np.exp(-g * sq(land, land)) + 0.1 * np.eye(m), Y - Y.mean(0))
    for i in range(4):
        z = 10 * (np.exp(-g * sq(x[i, :n[i]], land)) @ coef + Y.mean(0))
        logp = z - z.max(1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(1, keepdims=True))
        assert np.allclose(out[i], logp.mean(0), atol=1e-3), i
    with pytest.raises(InputError, match="closed_form_inputs 'frame'"):
        build("baseline_d", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "kernel_ridge=[0, 500]",
              "--decoder_conf", "closed_form_inputs=frame")


def test_shrinkage_lda_gives_scikit_learns_discriminant_scores():
    """ShrinkageLDA over stored labelled inputs (class -1 not stored) gives, divided by its temperature, the
    decision function of scikit-learn's LinearDiscriminantAnalysis(solver="lsqr", shrinkage=s) fitted on them
    (priors: the classes' frequencies), for inputs wider than there are of them (the Woodbury path)."""
    import numpy as np
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    from espnet_ser.model.decoder.branch import ShrinkageLDA

    torch.manual_seed(0)
    x = torch.randn(40, 60, dtype=torch.float64) + torch.arange(40).remainder(3)[:, None].double()
    y = torch.tensor([c % 3 if c % 5 else -1 for c in range(40)])
    for s in (0.3, 0.9):
        lda = ShrinkageLDA(60, 100, num_classes=3, shrinkage=s, temperature=0.5).train()
        lda.observe(x.float(), y)
        known = (y >= 0).numpy()
        ref = LinearDiscriminantAnalysis(solver="lsqr", shrinkage=s).fit(x.numpy()[known], y.numpy()[known])
        z = torch.randn(7, 60)
        got = lda.eval()(z).double().numpy() / 0.5
        assert lda.filled.sum().item() == known.sum()
        assert np.allclose(got, ref.decision_function(z.double().numpy()), rtol=1e-4, atol=1e-3), s


def test_lda_members_follow_the_ridge_members_and_save_under_their_name():
    """decoder_conf lda [0, N] adds a closed-form member on the second group after the kernel ridge ones; its
    state is saved as members.K.lda.*; a training forward stores the labelled pooled inputs; refused with a
    V/A/D head, without input_groups, and with a shrinkage outside (0, 1)."""
    from espnet_ser.errors import InputError

    conf = ["input_groups=[40, 24]", "kernel_ridge=[0, 100]", "lda=[100, 0]", "hidden_sizes=[8]"]
    model = build("baseline_d", *[a for c in conf for a in ("--decoder_conf", c)])
    dec = model.decoder
    assert dec.member_groups == [0, 1, 1, 0] and len(dec.members) == 4
    keys = {k for k in dec.state_dict() if k.startswith(("members.2.", "members.3.")) and ".pooling." not in k}
    assert keys == {f"members.{i}.{n}.{b}" for i, n in ((2, "ridge"), (3, "lda")) for b in ("landmarks", "filled", "targets")}
    model.train()
    model(**batch("mixed"))  # classes [0, -1, 2, -1]
    assert dec.members[3].lda.filled.sum() == 2 and dec.members[3].lda.targets[:2].argmax(1).tolist() == [0, 2]
    with pytest.raises(InputError, match="lda fits class targets"):
        build("multitask", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "lda=[100, 0]")
    with pytest.raises(InputError, match="LDA members need input_groups"):
        build("baseline_d", "--decoder_conf", "lda=100")
    with pytest.raises(InputError, match="lda_shrinkage 1.0 must lie in"):
        build("baseline_d", "--decoder_conf", "input_groups=[40, 24]", "--decoder_conf", "lda=[0, 10]",
              "--decoder_conf", "lda_shrinkage=1.0")


def test_a_group_without_a_network_has_its_closed_form_members_only_and_saves_its_stored_rows_only(tmp_path):
    """decoder_conf networks [0, 1]: the first group has no network, only its kernel ridge member (members: the
    second group's network, then the ridge); a saved model holds the ridge's stored rows only (2 of 100 slots,
    from the labelled items of a training batch), and a fresh model loads it back, the empty slots zeros, giving
    the same eval outputs; a model saved with every slot (as before) loads too. Refused: a value other than 0
    or 1, no group with anything to train, networks without input_groups."""
    from espnet_ser.errors import InputError

    torch.manual_seed(0)
    args = [a for c in ("input_groups=[40, 24]", "networks=[0, 1]", "kernel_ridge=[100, 0]", "hidden_sizes=[8]")
            for a in ("--decoder_conf", c)]
    model = build("baseline_d", *args)
    dec = model.decoder
    assert dec.member_groups == [1, 0] and len(dec.members) == 2
    first = next(m for m in dec.members[0].modules() if isinstance(m, torch.nn.Linear))
    assert first.in_features == 24 and list(dec.members[1].ridge.parameters()) == []
    model.train()
    model(**batch("mixed"))  # classes [0, -1, 2, -1]
    state = model.state_dict()
    assert state["decoder.members.1.ridge.landmarks"].shape == (2, 40)
    assert state["decoder.members.1.ridge.targets"].shape == (2, 5) and state["decoder.members.1.ridge.filled"].shape == (100,)
    torch.save(state, tmp_path / "m.pth")
    torch.save(dec.members[1].ridge.state_dict(), tmp_path / "ridge.pth")  # its file: 2 stored rows, not 100 slots
    assert (tmp_path / "ridge.pth").stat().st_size < 100 * 40 * 4 / 2
    full = {k: v.clone() for k, v in state.items()}
    ridge = dec.members[1].ridge
    full["decoder.members.1.ridge.landmarks"], full["decoder.members.1.ridge.targets"] = ridge.landmarks.clone(), ridge.targets.clone()
    assert full["decoder.members.1.ridge.landmarks"].shape == (100, 40)
    model.eval()
    b = batch("mixed")
    with torch.no_grad():
        want = dec(*model.encode(b["speech"], b["speech_lengths"]))["logits"]
    for saved in (torch.load(tmp_path / "m.pth"), full):
        torch.manual_seed(5)
        other = build("baseline_d", *args)
        other.load_state_dict(saved)
        other.eval()
        loaded = other.decoder.members[1].ridge
        assert loaded.landmarks.shape == (100, 40) and not loaded.landmarks[2:].any() and not loaded.targets[2:].any()
        assert torch.equal(loaded.landmarks[:2], ridge.landmarks[:2])
        with torch.no_grad():
            assert torch.allclose(other.decoder(*other.encode(b["speech"], b["speech_lengths"]))["logits"], want, atol=1e-6)
    for conf, match in ((["networks=[2, 1]"], "1 \\(a network for that group\\) or 0"),
                        (["networks=[0, 0]", "kernel_ridge=[100, 0]"], "nothing would train"),
                        (["networks=0"], None)):
        extra = [a for c in ["input_groups=[40, 24]", *conf] for a in ("--decoder_conf", c)]
        with pytest.raises(InputError, match=match or "nothing would train"):
            build("baseline_d", *extra)
    with pytest.raises(InputError, match="networks per group need input_groups"):
        build("baseline_d", "--decoder_conf", "networks=0")


def test_inputs_beyond_a_members_slots_are_not_stored_and_the_log_says_so(caplog):
    """A kernel ridge member with 2 slots given 4 labelled inputs, one a repeat of the first: the first two distinct
    ones are stored, the log counts the one new input left out; the repeat is not counted."""
    import logging

    from espnet_ser.model.decoder.branch import KernelRidge

    r = KernelRidge(1, 2, num_classes=2, ridge=1.0, temperature=1.0).train()
    with caplog.at_level(logging.WARNING):
        r.observe(torch.tensor([[0.0], [1.0], [0.0], [2.0]]), torch.tensor([0, 1, 0, 1]))
    assert r.landmarks.flatten().tolist() == [0.0, 1.0]
    assert "KernelRidge: its 2 slots are full; 1 new training input(s)" in caplog.text


def test_product_fusion_and_prior_correction():
    """fusion product: the members' log-distributions averaged and renormalised (numpy); prior_correction: training
    forwards count the known classes (not -1, and only with labels), and the eval distribution is the fused one
    divided by their frequencies, a class never seen counting once, renormalised (numpy); a loaded copy gives
    the same; ridge_gamma_scale sets the ridge members' gamma to scale / the group's size."""
    import numpy as np

    torch.manual_seed(0)
    conf = ["input_groups=[40, 24]", "kernel_ridge=[0, 100]", "ridge_gamma_scale=0.25", "fusion=product",
            "prior_correction=true", "hidden_sizes=[8]", "dropout=0.0"]
    args = [a for c in conf for a in ("--decoder_conf", c)]
    model = build("baseline_d", *args)
    dec = model.decoder
    assert dec.members[2].ridge.gamma == pytest.approx(0.25 / 24)
    model.train()
    for labels in ("full", "full", "mixed"):  # classes [0, 1, 2, 3] twice, then [0, -1, 2, -1]
        model(**batch(labels))
    assert dec.class_counts.tolist() == [3.0, 2.0, 3.0, 2.0, 0.0]
    b = batch("full")
    with torch.no_grad():
        hs, lens = model.eval().encode(b["speech"], b["speech_lengths"])
        logp = members_log_probs(dec, hs, lens, [(0, 40), (40, 64), (40, 64)])
        out = dec(hs, lens)["logits"]
        dec.train()
        trained = dec(hs, lens)["logits"]  # training mode, no labels: not corrected, nothing counted
        dec.eval()
    geo = np.exp(logp.mean(0)) / np.exp(logp.mean(0)).sum(1, keepdims=True)
    prior = np.array([3, 2, 3, 2, 1]) / 10
    want = (geo / prior) / (geo / prior).sum(1, keepdims=True)
    assert np.allclose(torch.exp(out).numpy(), want, atol=1e-5)
    # the ridge member is uniform in training mode: the trained members' product with a uniform third
    two = np.exp((logp[0] + logp[1] + np.log(0.2)) / 3)
    assert np.allclose(torch.exp(trained).numpy(), two / two.sum(1, keepdims=True), atol=1e-5)
    assert dec.class_counts.sum().item() == 10
    copy = build("baseline_d", *args).eval()
    copy.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(copy.decoder(hs, lens)["logits"], out, atol=1e-5)


@pytest.mark.parametrize("conf, match", [
    (["input_groups=[40, 20]"], "summing to the encoder output size 64"),
    (["input_groups=[40, 24]", "input_dropout=[0.5]"], "1 values for 2 input_groups"),
    (["input_dropout=[0.5, 0.2]"], "needs input_groups"),
    (["input_groups=[40, 24]", "rbf_features=[100]"], "one size .0 or more. per group"),
    (["input_groups=[40, 24]", "rbf_features=[100, -1]"], "one size .0 or more. per group"),
    (["rbf_features=[0, 100]"], "needs input_groups"),
    (["rbf_features=-5"], "must be 0 .none. or a number of features"),
    (["input_groups=[40, 24]", "kernel_landmarks=[100]"], "kernel_landmarks .100.: one size .0 or more. per group"),
    (["kernel_landmarks=[0, 100]"], "needs input_groups"),
    (["kernel_landmarks=-1"], "must be 0 .none. or a number of features"),
    (["rbf_features=10", "kernel_landmarks=10"], "a branch without input_groups takes one"),
    (["input_groups=[40, 24]", "kernel_ridge=[100]"], "kernel_ridge .100.: one size .0 or more. per group"),
    (["kernel_ridge=100"], "kernel ridge members need input_groups"),
    (["input_groups=[40, 24]", "kernel_ridge=[0, 100]", "ridge=0"], "must be positive"),
    (["input_groups=[40, 24]", "kernel_ridge=[0, 100]"], "fits class targets: a decoder with a V/A/D head takes none"),
    (["input_groups=[40, 24]", "fusion=vote"], "fusion 'vote': one of mean, product"),
    (["fusion=product"], "fusion 'product' combines the members of input_groups: it needs input_groups"),
    (["input_groups=[40, 24]", "ridge_gamma_scale=0"], "ridge_gamma_scale 0 must be positive"),
    (["prior_correction=true"], "prior_correction corrects class distributions: this decoder has no class head")])
def test_bad_input_groups_are_refused(conf, match):
    from espnet_ser.errors import InputError

    variant = {"V/A/D": "multitask", "no class head": "baseline_c"}
    variant = next((v for k, v in variant.items() if k in match), "baseline_d")
    with pytest.raises(InputError, match=match):
        build(variant, *[a for c in conf for a in ("--decoder_conf", c)])
