"""Turns the label files' text into arrays for ESPnet's collate function.

* ``emotion`` (read as ``text``): a class name from the class list -> int64 array [index];
  ``nan`` (missing) -> [-1], the ignore index of the CE loss. Any other name is an error that names
  the utterance and the known classes.
* ``vad`` (read as ``text_float``): three floats, NaN where missing -> float32 array (3,).
* ``emotion_votes`` (read as ``text``): ``class:mass ...`` -> float32 array (C,) of vote mass in
  class-list order, NaN everywhere for ``nan`` (:func:`espnet_ser.labels.parse_votes`).
* ``vad_raters`` (read as ``text_float``): seven floats (means, stds, count) -> float32 array (7,).

Training only, with ``data_aug_effects`` set: ESPnet's waveform augmentation
(``espnet2.layers.augmentation.DataAugmentation``; e.g. speed perturbation) on ``speech`` with
probability ``data_aug_prob``. It needs audio input (raw features, not a feature cache).
"""

from typing import Dict, List, Optional, Sequence

import numpy as np

from espnet_ser import MISSING, VAD_DIMS
from espnet_ser.errors import InputError
from espnet_ser.labels import RATER_COLUMNS, parse_votes
from espnet_ser.model.loss import IGNORE_INDEX


class SERPreprocessor:
    def __init__(self, class_list: Sequence[str], train: bool = False, data_aug_effects: Optional[List] = None,
                 data_aug_num: Sequence[int] = (1, 1), data_aug_prob: float = 0.0, fs: int = 16000):
        self.class_list = list(class_list)
        self.index = {c: i for i, c in enumerate(self.class_list)}
        self.data_aug = None
        if train and data_aug_effects and data_aug_prob > 0:
            from espnet2.layers.augmentation import DataAugmentation

            self.data_aug = DataAugmentation(data_aug_effects, apply_n=list(data_aug_num))
        self.data_aug_prob = data_aug_prob
        self.fs = fs

    def __call__(self, uid: str, data: Dict) -> Dict[str, np.ndarray]:
        if "speech" in data and not np.isfinite(np.asarray(data["speech"], dtype=np.float32)).all():
            # a NaN sample makes every loss of its batch NaN, and ESPnet skips such steps silently
            raise InputError(f"utterance {uid}: NaN or infinite samples in its audio (or features); fix or drop it")
        if self.data_aug is not None and "speech" in data and np.random.random() < self.data_aug_prob:
            speech = np.asarray(data["speech"], dtype=np.float32)
            if speech.ndim != 1:
                raise ValueError(f"utterance {uid}: data_aug_effects need mono audio input, got shape {speech.shape} "
                                 "(a feature cache? train on raw audio to augment)")
            data["speech"] = self.data_aug(speech, self.fs).astype(np.float32)
        if "emotion" in data:
            data["emotion"] = np.array([self.class_index(uid, data["emotion"])], dtype=np.int64)
        if "vad" in data:
            vad = np.asarray(data["vad"], dtype=np.float32).reshape(-1)
            if vad.size != len(VAD_DIMS):
                raise ValueError(f"utterance {uid}: vad needs {len(VAD_DIMS)} values (v a d), got {vad.size}")
            data["vad"] = vad
        if "emotion_votes" in data:
            data["emotion_votes"] = parse_votes(str(data["emotion_votes"]), self.class_list,
                                                f"utterance {uid}: emotion_votes").astype(np.float32)
        if "vad_raters" in data:
            raters = np.asarray(data["vad_raters"], dtype=np.float32).reshape(-1)
            if raters.size != RATER_COLUMNS:
                raise ValueError(f"utterance {uid}: vad_raters needs {RATER_COLUMNS} values, got {raters.size}")
            data["vad_raters"] = raters
        return data

    def class_index(self, uid: str, name) -> int:
        name = str(name).strip()
        if name == MISSING:
            return IGNORE_INDEX
        try:
            return self.index[name]
        except KeyError:
            raise ValueError(
                f"utterance {uid}: class {name!r} is not in the class list {self.class_list} "
                f"(write {MISSING!r} for an utterance without a class)"
            ) from None
