import audmetric
import numpy as np
import pytest
import torch

from espnet_ser.model.loss import IGNORE_INDEX, ccc_loss, concordance_cc, masked_cross_entropy
from helpers import literal_ccc


@pytest.mark.parametrize("seed", range(5))
def test_ccc_matches_literal_formula_and_audmetric(seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, 50)
    x = 0.6 * y + rng.normal(0.1, 0.2, 50)
    got = concordance_cc(torch.tensor(x), torch.tensor(y)).item()
    assert got == pytest.approx(literal_ccc(x, y), abs=1e-6)
    assert got == pytest.approx(audmetric.concordance_cc(y, x), abs=1e-6)


def test_ccc_loss_is_sum_of_one_minus_ccc():
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 1, (20, 3))
    x = y + rng.normal(0, 0.3, (20, 3))
    loss, cccs = ccc_loss(torch.tensor(x), torch.tensor(y))
    expected = sum(1 - literal_ccc(x[:, d], y[:, d]) for d in range(3))
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert [c.item() for c in cccs] == pytest.approx([literal_ccc(x[:, d], y[:, d]) for d in range(3)], abs=1e-6)


def test_ccc_gradcheck():
    torch.manual_seed(0)
    x = torch.rand(8, 3, dtype=torch.float64, requires_grad=True)
    y = torch.rand(8, 3, dtype=torch.float64)
    y[0, 1] = float("nan")
    assert torch.autograd.gradcheck(lambda p: ccc_loss(p, y)[0], (x,))


def test_ccc_masks_missing_and_skips_dimensions_with_fewer_than_two_items():
    x = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], requires_grad=True)
    nan = float("nan")
    y = torch.tensor([[0.2, nan, nan], [0.5, 0.4, nan], [0.6, nan, 0.9]])
    loss, cccs = ccc_loss(x, y)
    assert cccs[1] is None and cccs[2] is None  # one labelled item each: skipped
    assert loss.item() == pytest.approx(1 - literal_ccc([0.1, 0.4, 0.7], [0.2, 0.5, 0.6]), abs=1e-6)
    loss.backward()
    assert torch.isfinite(x.grad).all() and (x.grad[:, 1:] == 0).all()


def test_empty_labels_give_exact_zero_and_a_legal_backward():
    x = torch.rand(4, 3, requires_grad=True)
    loss, cccs = ccc_loss(x, torch.full((4, 3), float("nan")))
    assert loss.item() == 0.0 and cccs == [None, None, None]
    logits = torch.randn(4, 5, requires_grad=True)
    ce, acc = masked_cross_entropy(logits, torch.full((4,), IGNORE_INDEX))
    assert ce.item() == 0.0 and acc is None
    (loss + ce).backward()
    assert (x.grad == 0).all() and (logits.grad == 0).all()


def test_masked_ce_equals_ce_on_labelled_items():
    torch.manual_seed(0)
    logits = torch.randn(6, 5)
    labels = torch.tensor([0, IGNORE_INDEX, 3, 4, IGNORE_INDEX, 1])
    ce, acc = masked_cross_entropy(logits, labels)
    keep = labels >= 0
    assert ce.item() == pytest.approx(torch.nn.functional.cross_entropy(logits[keep], labels[keep]).item())
    assert acc.item() == pytest.approx((logits[keep].argmax(-1) == labels[keep]).float().mean().item())


def test_ce_sum_is_the_mean_times_the_labelled_items_and_soft_ce_follows():
    from espnet_ser.model.loss import soft_cross_entropy

    torch.manual_seed(1)
    logits = torch.randn(5, 4)
    labels = torch.tensor([0, IGNORE_INDEX, 3, 1, IGNORE_INDEX])
    logp = torch.log_softmax(logits, -1)
    hand = -(logp[0, 0] + logp[2, 3] + logp[3, 1]).item()
    assert masked_cross_entropy(logits, labels, "sum")[0].item() == pytest.approx(hand, rel=1e-6)
    assert masked_cross_entropy(logits, labels, "mean")[0].item() == pytest.approx(hand / 3, rel=1e-6)
    votes = torch.full((5, 4), float("nan"))  # no votes: the hard classes
    assert soft_cross_entropy(logits, votes, labels, "sum")[0].item() == pytest.approx(hand, rel=1e-6)
    assert soft_cross_entropy(logits, votes, labels, "mean")[0].item() == pytest.approx(hand / 3, rel=1e-6)


def test_label_smoothing_is_the_uniform_mixture_written_out_by_hand():
    """lsm_weight e: target (1 - e) * one_hot + e / K (the formula of ESPnet's cls task, which builds
    ``nn.CrossEntropyLoss(label_smoothing=lsm_weight)``), written out by hand; a soft target q becomes
    (1 - e) q + e / K."""
    from espnet_ser.model.loss import soft_cross_entropy

    torch.manual_seed(2)
    logits = torch.randn(4, 5)
    labels = torch.tensor([0, 3, IGNORE_INDEX, 4])
    logp = torch.log_softmax(logits, -1).tolist()
    e, K = 0.2, 5
    hand = [-sum(((1 - e) * (k == c) + e / K) * logp[i][k] for k in range(K)) for i, c in ((0, 0), (1, 3), (3, 4))]
    assert masked_cross_entropy(logits, labels, label_smoothing=e)[0].item() == pytest.approx(sum(hand) / 3, rel=1e-6)
    assert masked_cross_entropy(logits, labels, "sum", label_smoothing=e)[0].item() == pytest.approx(sum(hand), rel=1e-6)
    votes = torch.tensor([[3.0, 1.0, 0, 0, 0]] + [[float("nan")] * 5] * 3)  # item 0: q = (3/4, 1/4, 0, 0, 0)
    q0 = [(1 - e) * v + e / K for v in (0.75, 0.25, 0, 0, 0)]
    soft_hand = [-sum(q0[k] * logp[0][k] for k in range(K))] + hand[1:]
    assert soft_cross_entropy(logits, votes, labels, label_smoothing=e)[0].item() == pytest.approx(sum(soft_hand) / 3, rel=1e-6)
