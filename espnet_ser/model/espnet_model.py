"""ESPnetSERModel: frontend -> (specaug) -> normalize -> encoder -> decoder -> losses and stats.

``forward`` returns ``(loss, stats, weight)`` like every ESPnet model. Labels may be partial (see
``espnet_ser.model.loss``): ``emotion`` holds class indices with -1 where an utterance has no class,
``vad`` holds (B, 3) values on a 0-1 scale with NaN where a dimension is missing.

Stats (all batch-level; a stat whose labels are absent from the batch is None, which ESPnet's
reporter skips): ``loss loss_ce loss_ccc ccc_valence ccc_arousal ccc_dominance ccc_mean acc``.
While ``epoch_outputs`` is a list (the trainer sets it for a validation pass), ``forward`` in eval mode
also appends each batch's predictions and labels to it, so that set-level metrics (UA, F1, CCC over
the whole dev set: :func:`espnet_ser.metrics.selection_scores`) can choose the best model.

Annotator targets (``model_conf``; defaults keep the paper's losses): ``class_targets: soft`` trains the
class head against the evaluators' vote distribution (``emotion_votes``; items without votes use their
hard class); ``ce_reduction: mean|sum``: CE as the mean over a batch's labelled utterances (default)
or their sum (the paper's eq. 1; docs/reproduction.md); ``lsm_weight: 0.1``: label smoothing of the
class targets, ``(1 - e) * target + e / K`` (ESPnet's name and PyTorch's formula, as ESPnet's cls task
uses them; 0, the paper's, by default); ``vad_agreement_tau: 0.1`` weights each item's CCC terms by ``tau / (tau + rater std)``
(``vad_raters``). Without those data files both fall back to the hard losses.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from espnet2.asr.encoder.abs_encoder import AbsEncoder
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel

from espnet_ser import VAD_DIMS
from espnet_ser.model.decoder.abs_decoder import AbsSERDecoder
from espnet_ser.errors import InputError
from espnet_ser.model.speaker_mvn import SpeakerMVN
from espnet_ser.model.loss import CE_REDUCTIONS, agreement_weights, ccc_loss, masked_cross_entropy, soft_cross_entropy

CLASS_TARGETS = ("hard", "soft")


class ESPnetSERModel(AbsESPnetModel):
    def __init__(
        self,
        class_list: Sequence[str],
        frontend: Optional[AbsFrontend],
        specaug: Optional[AbsSpecAug],
        normalize: Optional[AbsNormalize],
        encoder: AbsEncoder,
        decoder: AbsSERDecoder,
        alpha: float = 1.0,
        beta: float = 1.0,
        extract_feats_in_collect_stats: bool = True,
        class_targets: str = "hard",
        vad_agreement_tau: Optional[float] = None,
        ce_reduction: str = "mean",
        lsm_weight: float = 0.0,
        trained_classes: Optional[Sequence[str]] = None,
    ):
        super().__init__()
        unknown = sorted(set(trained_classes or ()) - set(class_list))
        if unknown:
            raise InputError(f"model_conf trained_classes {unknown} are not in class_list {list(class_list)}")
        # the classes the training data has (SERTask fills it in from the training emotion file): the others
        # get probability 0, so a model never predicts a class it never saw
        self.trained_classes = list(trained_classes) if trained_classes else list(class_list)
        self.register_buffer("untrained", torch.tensor([c not in self.trained_classes for c in class_list]),
                             persistent=False)
        if not 0.0 <= lsm_weight < 1.0:
            raise InputError(f"model_conf lsm_weight (label smoothing) must be in [0, 1), got {lsm_weight!r}")
        self.lsm_weight = float(lsm_weight)
        if ce_reduction not in CE_REDUCTIONS:
            raise InputError(f"model_conf ce_reduction must be one of {CE_REDUCTIONS}, got {ce_reduction!r}")
        self.ce_reduction = ce_reduction
        if class_targets not in CLASS_TARGETS:
            raise InputError(f"model_conf class_targets must be one of {CLASS_TARGETS}, got {class_targets!r}")
        if vad_agreement_tau is not None and not vad_agreement_tau > 0:
            raise InputError(f"model_conf vad_agreement_tau must be positive (or null), got {vad_agreement_tau!r}")
        self.class_targets = class_targets
        self.vad_agreement_tau = vad_agreement_tau
        self.class_list = list(class_list)
        self.frontend = frontend
        self.specaug = specaug
        self.normalize = normalize
        self.encoder = encoder
        self.decoder = decoder
        self.alpha = alpha
        self.beta = beta
        self.extract_feats_in_collect_stats = extract_feats_in_collect_stats
        self.epoch_outputs: Optional[List[Dict]] = None

    # ------------------------------------------------------------------ features and encoder
    def extract_feats(self, speech: torch.Tensor, speech_lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        speech = speech[:, : speech_lengths.max()]
        if self.frontend is None:  # features come from the data loader (cached frozen features)
            return speech, speech_lengths
        return self.frontend(speech, speech_lengths)

    def features(self, speech: torch.Tensor, speech_lengths: torch.Tensor,
                 speaker_mvn: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """The encoder's input: frontend, then normalisation (SpecAugment between, in training).
        ``speaker_mvn`` (B, 2 D): the speakers' statistics of a model normalised with ``speaker_mvn``;
        that normalisation comes before SpecAugment, so that its masks are zeros of the normalised scale."""
        feats, feats_lengths = self.extract_feats(speech, speech_lengths)
        per_speaker = isinstance(self.normalize, SpeakerMVN)
        if per_speaker:
            feats, feats_lengths = self.normalize(feats, feats_lengths, speaker_mvn)
        if self.specaug is not None and self.training:
            feats, feats_lengths = self.specaug(feats, feats_lengths)
        if self.normalize is not None and not per_speaker:
            feats, feats_lengths = self.normalize(feats, feats_lengths)
        return feats, feats_lengths

    def encode(self, speech: torch.Tensor, speech_lengths: torch.Tensor,
               speaker_mvn: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        hs, hs_lengths, _ = self.encoder(*self.features(speech, speech_lengths, speaker_mvn))
        return hs, hs_lengths

    def predict(self, speech: torch.Tensor, speech_lengths: torch.Tensor,
                speaker_mvn: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        """Class probabilities (B, C) and V/A/D (B, 3); either is None when the decoder lacks it.
        ``speaker_mvn``: (B, 2 D) speaker statistics, for a model normalised with ``speaker_mvn``."""
        out = self.decoder(*self.encode(speech, speech_lengths, speaker_mvn))
        probs = torch.softmax(self.mask_untrained(out["logits"]), dim=-1) if out["logits"] is not None else None
        return {"probs": probs, "vad": out["vad"]}

    def mask_untrained(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits`` with the classes absent from the training data at -inf (their probability is 0)."""
        return logits.masked_fill(self.untrained, float("-inf")) if bool(self.untrained.any()) else logits

    # ------------------------------------------------------------------ training
    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        emotion: Optional[torch.Tensor] = None,
        emotion_lengths: Optional[torch.Tensor] = None,
        vad: Optional[torch.Tensor] = None,
        vad_lengths: Optional[torch.Tensor] = None,
        emotion_votes: Optional[torch.Tensor] = None,
        vad_raters: Optional[torch.Tensor] = None,
        speaker_mvn: Optional[torch.Tensor] = None,
        corpus: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, Optional[torch.Tensor]], torch.Tensor]:
        batch_size = speech.shape[0]
        out = self.decoder(*self.encode(speech, speech_lengths, speaker_mvn))
        stats: Dict[str, Optional[torch.Tensor]] = {}

        loss_ce, acc, loss_ccc, cccs = self._head_losses(out, emotion, vad, emotion_votes, vad_raters)

        if self.epoch_outputs is not None and not self.training:
            self.epoch_outputs.append({
                "pred_cls": None if out["logits"] is None else out["logits"].argmax(-1).cpu().numpy(),
                "ref_cls": None if emotion is None else emotion.view(batch_size, -1)[:, 0].long().cpu().numpy(),
                "pred_vad": None if out["vad"] is None else out["vad"].detach().float().cpu().numpy(),
                "ref_vad": None if vad is None else vad.view(batch_size, -1).float().cpu().numpy(),
                "corpus": None if corpus is None else corpus.view(batch_size, -1)[:, 0].long().cpu().numpy()})
        loss = self.alpha * loss_ccc + self.beta * loss_ce
        stats["loss"] = loss.detach()
        stats["loss_ce"] = loss_ce.detach() if out["logits"] is not None else None
        stats["loss_ccc"] = loss_ccc.detach() if out["vad"] is not None else None
        for name, ccc in zip(VAD_DIMS, cccs):
            stats[f"ccc_{name}"] = ccc
        present: List[torch.Tensor] = [c for c in cccs if c is not None]
        stats["ccc_mean"] = torch.stack(present).mean() if present else None
        stats["acc"] = acc
        if _world_size() > 1:
            # ESPnet all-gathers every stat of a step, key by key, and drops None ones first: a stat one rank
            # could not compute (no labelled item in its part of the batch) must be NaN there, not absent,
            # or the ranks' collectives no longer pair up and training hangs. ESPnet averages the others.
            heads = {"acc": out["logits"] is not None, "ccc_mean": out["vad"] is not None,
                     **{f"ccc_{n}": out["vad"] is not None for n in VAD_DIMS}}
            for k, has_head in heads.items():
                if has_head and stats[k] is None:
                    stats[k] = torch.tensor(float("nan"), device=loss.device)
        loss, stats, weight = force_gatherable((loss, stats, batch_size), loss.device)
        return loss, stats, weight

    def _head_losses(self, out, emotion, vad, emotion_votes, vad_raters):
        """(CE loss, accuracy, CCC loss, per-dimension CCCs) of one decoder output; a loss is a zero that
        keeps the graph where its head or its labels are missing."""
        first = next(t for t in (out["logits"], out["vad"]) if t is not None)
        batch_size, zero = first.shape[0], first.sum() * 0.0
        loss_ce, acc = zero, None
        soft = self.class_targets == "soft" and emotion_votes is not None
        if out["logits"] is not None and (emotion is not None or soft):
            labels = (emotion.view(batch_size, -1)[:, 0].long() if emotion is not None
                      else torch.full((batch_size,), -1, dtype=torch.long, device=out["logits"].device))
            if soft:
                loss_ce, acc = soft_cross_entropy(out["logits"], emotion_votes.view(batch_size, -1), labels,
                                                  self.ce_reduction, self.lsm_weight)
            else:
                loss_ce, acc = masked_cross_entropy(out["logits"], labels, self.ce_reduction, self.lsm_weight)
        loss_ccc, cccs = zero, [None] * len(VAD_DIMS)
        if out["vad"] is not None and vad is not None:
            weights = None
            if self.vad_agreement_tau is not None and vad_raters is not None:
                std = vad_raters.view(batch_size, -1)[:, 3:6].to(out["vad"].dtype)
                weights = agreement_weights(std, self.vad_agreement_tau)
            loss_ccc, cccs = ccc_loss(out["vad"], vad.view(batch_size, -1).to(out["vad"].dtype), weights=weights)
        return loss_ce, acc, loss_ccc, cccs

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> Dict[str, torch.Tensor]:
        if self.extract_feats_in_collect_stats:
            feats, feats_lengths = self.extract_feats(speech, speech_lengths)
        else:
            feats, feats_lengths = speech, speech_lengths
        return {"feats": feats, "feats_lengths": feats_lengths}


def _world_size() -> int:
    """Processes of the distributed run this model trains in (1 without one)."""
    return torch.distributed.get_world_size() if torch.distributed.is_available() and torch.distributed.is_initialized() else 1
