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
