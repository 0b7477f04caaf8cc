"""espnet-ser: speech emotion recognition (discrete classes + valence/arousal/dominance) on ESPnet."""

__version__ = "0.1.0"

#: The paper's five classes, in the order of the model's outputs (token_list style).
DEFAULT_CLASSES = ("neutral", "angry", "happy", "sad", "disgust")
#: The continuous dimensions, in the order of the `vad` file's columns and the model's outputs.
VAD_DIMS = ("valence", "arousal", "dominance")
#: What a label file holds where a label is missing (class in `emotion`, a dimension in `vad`).
MISSING = "nan"
