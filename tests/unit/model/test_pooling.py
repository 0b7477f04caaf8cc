import pytest
import torch

from espnet_ser.model.pooling.mean import MeanPooling
from espnet_ser.model.pooling.self_attentive import SelfAttentivePooling


@pytest.mark.parametrize("cls", [SelfAttentivePooling, MeanPooling])
def test_padding_frames_never_change_the_output(cls):
    torch.manual_seed(0)
    pool = cls(16).eval()
    x = torch.randn(1, 7, 16)
    ref = pool(x, torch.tensor([7]))
    for pad in (1, 5, 40):
        for fill in (torch.zeros, lambda *s: torch.randn(*s) * 1e4):
            xp = torch.cat([x, fill(1, pad, 16)], dim=1)
            # batch it with a longer utterance, as a collate function would
            batch = torch.cat([xp, torch.randn(1, 7 + pad, 16)], dim=0)
            out = pool(batch, torch.tensor([7, 7 + pad]))
            assert torch.allclose(out[0:1], ref, atol=1e-6)


def test_self_attentive_weights_depend_on_content():
    torch.manual_seed(0)
    pool = SelfAttentivePooling(8)
    x = torch.randn(2, 5, 8)
    assert not torch.allclose(pool(x, torch.tensor([5, 5])), x.mean(1))


def test_mean_pooling_gives_the_same_bits_whatever_the_padding():
    """An utterance's mean is the same float32 bits alone or padded in a batch of any length (a sum over the
    padded length rounded differently: a stored-input member saw the same utterance as new in each epoch's
    batches), and it is numpy's float64 mean of its frames to float32 precision; no frame gives zeros."""
    import numpy as np

    torch.manual_seed(0)
    pool = MeanPooling(6373)
    x = torch.randn(7, 6373) * 3 + 1
    alone = pool(x[None], torch.tensor([7]))[0]
    assert np.allclose(alone.double().numpy(), x.double().numpy().mean(0), rtol=1e-6, atol=1e-6)
    for pad in (1, 20, 40):
        batch = torch.stack([torch.cat([x, torch.zeros(pad, 6373)]), torch.randn(7 + pad, 6373)])
        assert torch.equal(pool(batch, torch.tensor([7, 7 + pad]))[0], alone), pad
    assert not pool(torch.randn(1, 3, 6373), torch.tensor([0])).any()
