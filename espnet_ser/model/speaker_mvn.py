"""Speaker-level mean and variance normalisation of the frontend's features (``normalize: speaker_mvn``).

Kaldi's per-speaker CMVN: every feature dimension of an utterance is normalised with the mean and the
standard deviation of that dimension over all frames of its speaker's utterances::

    y_t = (x_t - mu_spk) / sigma_spk

The statistics are a model input, one line per utterance in a ``speaker_mvn`` data file
(``utt mu_1 .. mu_D sigma_1 .. sigma_D``), computed with the model's own frontend over the utterances
of one data dir grouped by its ``utt2spk`` (:func:`statistics`; the recipe's
``espnet_ser.recipe.train_args.speaker_stats``). A test speaker's statistics
come from that speaker's test audio: the model adapts to a new voice from that voice's recordings and
no label is read (the choice and its cost: docs/reproduction.md). ``ser_inference`` computes them for
the inputs it is given (``--utt2spk``), so a trained model needs no statistics file.

>>> acc = SpeakerStats()
>>> acc.add("s1", torch.tensor([[1.0, 10.0], [3.0, 10.0]]))
>>> acc.add("s1", torch.tensor([[5.0, 10.0]]))
>>> [round(v, 7) for v in acc.result()["s1"].tolist()]  # means 3, 10; population stds sqrt(8/3), 0 floored at sqrt(1e-12)
[3.0, 10.0, 1.6329932, 1e-06]
"""

import logging
from pathlib import Path
from typing import Callable, Dict, Iterable, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from espnet2.layers.abs_normalize import AbsNormalize
from espnet.nets.pytorch_backend.nets_utils import make_pad_mask

from espnet_ser.errors import InputError
from espnet_ser.labels import SPEAKER_MVN

#: the variance floor: a dimension constant over a speaker's frames is divided by sqrt(EPS), not by 0.
#: Small, so that features of a small scale (openSMILE's jitter, shimmer and spectral slopes, with stds
#: of 1e-3 to 1e-5) are still brought to unit variance; float64 sums keep such variances exact enough.
EPS = 1e-12


class SpeakerMVN(AbsNormalize):
    """(B, T, D) features and (B, 2 D) statistics ``[mu, sigma]`` -> normalised features; padding stays 0."""

    def forward(self, x: torch.Tensor, ilens: torch.Tensor = None,
                stats: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        if stats is None:
            raise InputError(f"normalize speaker_mvn needs each utterance's speaker statistics (data name {SPEAKER_MVN}): "
                             "the recipe writes them in its stats stage; ser_inference computes them from --utt2spk")
        dim = x.size(-1)
        if stats.dim() != 2 or stats.size(1) != 2 * dim:
            raise InputError(f"{SPEAKER_MVN}: expected {2 * dim} values per utterance (mean and std of {dim} features), "
                             f"got shape {tuple(stats.shape)}")
        stats = stats.to(x.dtype)
        y = (x - stats[:, None, :dim]) / stats[:, None, dim:]
        if ilens is not None:
            y = y.masked_fill(make_pad_mask(ilens, y, 1), 0.0)
        return y, ilens


class SpeakerStats:
    """Per-speaker frame counts, sums and sums of squares (float64), accumulated utterance by utterance."""

    def __init__(self):
        self.sums: Dict[str, list] = {}

    def add(self, speaker: str, feats: torch.Tensor) -> None:
        """``feats``: (T, D) frames of one utterance (or one window of it) of ``speaker``."""
        f = feats.detach().double().cpu()
        n, s, q = self.sums.setdefault(speaker, [0, 0.0, 0.0])
        self.sums[speaker] = [n + f.size(0), s + f.sum(0), q + (f * f).sum(0)]

    def result(self) -> Dict[str, np.ndarray]:
        """speaker -> ``[mu, sigma]`` (2 D, float32); population std floored at ``sqrt(EPS)``."""
        out = {}
        for spk, (n, s, q) in self.sums.items():
            mean = s / n
            var = (q / n - mean * mean).clamp(min=EPS)
            out[spk] = torch.cat([mean, var.sqrt()]).float().numpy()
        #: speakers with a single frame (one utterance of functionals): every normalised feature of theirs is 0
        self.single = sorted(spk for spk, (n, _, _) in self.sums.items() if n == 1)
        if self.single:
            logging.warning(f"speaker_mvn: {len(self.single)} speaker(s) with a single feature frame "
                            f"({', '.join(self.single[:10])}{' ...' if len(self.single) > 10 else ''}): each "
                            "feature minus its own mean is 0, so their normalised features are all 0 (give every "
                            "speaker several utterances, or use global_mvn)")
        return out


@torch.no_grad()
def statistics(frontend: torch.nn.Module, utterances: Iterable[Tuple[str, str]], utt2spk: Mapping[str, str],
               read: Callable[[str], Iterable[torch.Tensor]]) -> Dict[str, np.ndarray]:
    """utterance -> its speaker's ``[mu, sigma]`` over the given utterances' ``frontend`` features.

    ``frontend``: the model's (``frontend(speech, lengths) -> (feats, lengths)``); one with trainable
    parameters is refused, since the statistics are computed once, before training, and it would move
    away from them. ``utterances``: (id, path) pairs; ``read(path)`` yields mono waveforms at the
    model's rate (one, or a long recording's windows).
    """
    if any(p.requires_grad for p in frontend.parameters()):
        raise InputError("normalize speaker_mvn needs a frontend without trainable parameters (its statistics are "
                         "computed once, before training); freeze it or use global_mvn")
    missing = [u for u, _ in utterances if u not in utt2spk]
    if missing:
        raise InputError(f"{len(missing)} utterance(s) have no speaker in utt2spk, e.g. {missing[0]}")
    acc = SpeakerStats()
    was_training = frontend.training
    frontend.eval()
    for uid, path in utterances:
        for wav in read(path):
            feats, lengths = frontend(wav.view(1, -1), torch.tensor([wav.numel()], device=wav.device))
            acc.add(utt2spk[uid], feats[0, : int(lengths[0])])
    frontend.train(was_training)
    per_speaker = acc.result()
    return {u: per_speaker[utt2spk[u]] for u, _ in utterances}


def write(path: Union[str, Path], stats: Mapping[str, np.ndarray]) -> Path:
    """The ``speaker_mvn`` data file: ``utt mu_1 .. sigma_D`` lines, sorted by utterance."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for uid in sorted(stats):
            f.write(uid + " " + " ".join(f"{v:.6g}" for v in stats[uid]) + "\n")
    tmp.replace(path)
    return path
