"""Speech2Emotion: a trained SER model applied to a waveform.

>>> s2e = Speech2Emotion("exp/ser_x/config.yaml", "exp/ser_x/valid.ccc_mean.best.pth")  # doctest: +SKIP
>>> s2e(waveform, fs=44100)  # doctest: +SKIP
{'emotion': 'angry', 'probs': {'neutral': 0.1, ...}, 'vad': {'valence': 0.3, 'arousal': 0.8, 'dominance': 0.6}}

Input audio may have any sample rate (it is resampled to the model's) and any number of channels
(averaged to mono). A 2-D array is read as (samples, channels), soundfile's layout, unless its first
axis is clearly the channel axis (at most 8 rows and more columns than rows).

Long recordings (``predict_file``, ``ser_inference``) are cut into ``n = max(1, round(T / W))`` equal
windows of about W seconds (default 20 s, so each lies within 2/3 W .. 3/2 W), read from disk one at
a time (memory stays bounded by one window, whatever the file's length). The recording's class
probabilities and V/A/D are the duration-weighted means of the windows' outputs; its class is the
argmax of the mean probabilities.

Loading: ``Speech2Emotion(config, model_file)`` (an ESPnet exp dir's files),
``Speech2Emotion.from_pretrained(path)`` (a packed zip from ``pack_model``, or an exp dir).
"""

import argparse
import logging
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import soundfile as sf

import numpy as np
import torch

from espnet_ser import VAD_DIMS, compute_dtype, safe_load
from espnet_ser.errors import InputError, MissingInput, read_yaml_mapping
from espnet_ser.inference.conformal import CONFORMAL_IN_EXP, CONFORMAL_NAME, load_conformal
from espnet_ser.inference.pack import best_model_pth, unpack_config
from espnet_ser.model.frontend import AudioThroughCache, source_frontend
from espnet_ser.model.frontend.cached import CachedFeatures
from espnet_ser.model.speaker_mvn import SpeakerMVN
from espnet_ser.model.task import SERTask
from espnet_ser.inference.uncertainty import mc_dropout_passes, summarize
from espnet_ser.spec import LABEL_TYPES
from espnet_ser.waveform import check_waveform, resample, to_mono


def build_model(train_config: Union[str, Path], model_file: Optional[Union[str, Path]], device: str = "cpu"):
    """The model of an ESPnet ``config.yaml`` with the weights of ``model_file`` read weights-only.

    ESPnet's ``build_model_from_file`` unpickles with ``weights_only=False``: a crafted checkpoint would
    run code. Here the config is read with ``yaml.safe_load`` and the weights with :func:`espnet_ser.safe_load.load`.
    """
    conf = read_yaml_mapping(train_config, "model config")
    missing = [k for k in ("class_list", "frontend", "encoder", "decoder") if k not in conf]
    if missing:
        raise InputError(f"{train_config}: not a trained model's config (no {', '.join(missing)})")
    args = argparse.Namespace(**conf)
    model = SERTask.build_model(args).to(device)
    if model_file is not None:
        if not Path(model_file).is_file():
            raise MissingInput(f"{model_file}: model file not found")
        state = safe_load.load(model_file, map_location=device)
        if isinstance(state, dict) and "module" in state and "model" not in state:  # deepspeed layout
            state = state["module"]
        load_weights(model, state, model_file)
    return model, args


def load_weights(model: torch.nn.Module, state, where) -> None:
    """Weights into ``model``; weights that do not fit its config (another class list, other sizes,
    missing or extra tensors) are an error naming the file."""
    if not isinstance(state, dict):
        raise InputError(f"{where}: not a state dict of tensors")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = " ".join(str(e).split())[:300]
        raise InputError(f"{where}: the weights do not fit the model's config: {first}") from None


OUTPUT_TYPE = {"probs": "emotion", "vad": "vad"}


def untrained_outputs(args) -> List[str]:
    """Label types (``emotion``, ``vad``) that the training data of a config never carried, so that the
    head predicting them was never trained (e.g. a Table-2 row with continuous labels only). A config
    that lists no training data (a dry run) is taken as trained on both."""
    listed = getattr(args, "train_data_path_and_name_and_type", None) or []
    names = {entry[1] for entry in listed if len(entry) >= 2}
    if not names:
        return []
    return [t for t in LABEL_TYPES if t not in names]


class WindowedPredictor:
    """What the torch and the ONNX backends share: input conversion, windowing of long files, the
    duration-weighted aggregation and the output format. A subclass sets ``fs``, ``class_list`` and
    implements ``predict_batch`` (raw outputs of a padded batch of mono waveforms at ``fs``)."""

    fs: int = 16000
    class_list: List[str] = []

    #: whether the model normalises with its speakers' statistics (``normalize: speaker_mvn``)
    needs_speaker_stats: bool = False
    #: the model's conformal calibration (:mod:`espnet_ser.inference.conformal`), when it has one
    conformal = None

    def predict_batch(self, speech: torch.Tensor, lengths: torch.Tensor,
                      speaker_mvn: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, waveform: Union[np.ndarray, torch.Tensor], fs: int = 16000,
                 speaker_mvn: Optional[np.ndarray] = None) -> Dict:
        """``speaker_mvn``: the speaker's statistics (:meth:`speaker_statistics`), for a model that needs them."""
        wav = check_waveform(resample(to_mono(waveform), int(fs), self.fs), "waveform")
        out = self.predict_batch(wav.unsqueeze(0), torch.tensor([wav.numel()]), self._stats(speaker_mvn))
        return self.format(out, 0)

    def _stats(self, speaker_mvn: Optional[np.ndarray]) -> Optional[torch.Tensor]:
        if speaker_mvn is None:
            if self.needs_speaker_stats:
                raise InputError("this model normalises each speaker's features with that speaker's statistics "
                                 "(normalize: speaker_mvn): compute them with speaker_statistics() from the speaker's "
                                 "recordings (ser_inference: --utt2spk)")
            return None
        return torch.as_tensor(np.asarray(speaker_mvn, dtype=np.float32)).view(1, -1)

    def speaker_statistics(self, items: Sequence[Tuple[str, str]], utt2spk: Mapping[str, str],
                           window_s: float = 20.0) -> Dict[str, np.ndarray]:
        """Recording id -> its speaker's statistics over the given recordings ``items`` ((id, path) pairs),
        read window by window like :meth:`predict_file`."""
        from espnet_ser.model import speaker_mvn

        return speaker_mvn.statistics(self.model.frontend, items, utt2spk,
                                      lambda path: (wav.to(self.device) for wav, _ in self.windows(path, window_s)))

    def format(self, out: Dict[str, Optional[torch.Tensor]], i: int) -> Dict:
        """One item of a batch's outputs as the result dict. With stochastic passes (``probs_passes``,
        ``vad_passes``: (S, B, ...)) the probs and V/A/D are their means and ``class_entropy`` and
        ``vad_std`` are added (:func:`espnet_ser.inference.uncertainty.summarize`)."""
        result: Dict = {"emotion": None, "probs": None, "vad": None}
        if out.get("probs_passes") is not None or out.get("vad_passes") is not None:
            pick = lambda k: None if out.get(k) is None else out[k][:, i : i + 1].float().cpu().numpy()  # noqa: E731
            summary = summarize(pick("probs_passes"), pick("vad_passes"))
            out = {"probs": None if summary["probs"] is None else torch.from_numpy(summary["probs"]),
                   "vad": None if summary["vad"] is None else torch.from_numpy(summary["vad"])}
            i = 0
            if summary["class_entropy"] is not None:
                result["class_entropy"] = float(summary["class_entropy"][0])
            if summary["vad_std"] is not None:
                result["vad_std"] = dict(zip(VAD_DIMS, summary["vad_std"][0].tolist()))
        if out["probs"] is not None:
            p = out["probs"][i].float().cpu().tolist()
            result["probs"] = dict(zip(self.class_list, p))
            result["emotion"] = self.class_list[int(np.argmax(p))]
        if out["vad"] is not None:
            result["vad"] = dict(zip(VAD_DIMS, out["vad"][i].float().cpu().tolist()))
        return result

    def windows(self, path: Union[str, Path], window_s: float = 20.0) -> Iterator[Tuple[torch.Tensor, float]]:
        """Mono windows of a file at the model's rate (see the module docstring), with their durations."""
        if not window_s > 0:
            raise InputError(f"window length must be positive, got {window_s} s")

        def spans(rate: int, total: int):
            n = max(1, int(round(total / (window_s * rate))))
            bounds = np.linspace(0, total, n + 1).astype(np.int64)
            return zip(bounds[:-1], bounds[1:])

        for wav, a, b, rate in self.read_spans(path, spans):
            yield wav, (b - a) / rate

    def read_spans(self, path: Union[str, Path], spans) -> Iterator[Tuple[torch.Tensor, int, int, int]]:
        """The file's spans ``spans(rate, frames) -> [(first, end), ...]`` (samples), read one at a time
        as mono waveforms at the model's rate: ``(waveform, first, end, file rate)``."""
        if not Path(path).is_file():  # a FIFO or device would block the read
            raise InputError(f"{path}: not a regular file")
        with sf.SoundFile(str(path)) as f:
            if f.frames == 0:
                raise InputError(f"{path}: empty audio")
            for a, b in spans(f.samplerate, f.frames):
                f.seek(int(a))
                chunk = f.read(int(b - a), dtype="float32", always_2d=True)
                where = f"{path} ({a / f.samplerate:.1f}-{b / f.samplerate:.1f} s)"
                yield check_waveform(resample(to_mono(chunk), f.samplerate, self.fs), where, min_samples=1), a, b, f.samplerate

    def timeline(self, path: Union[str, Path], window_s: float = 2.0, hop_s: float = 1.0, gate: str = "none",
                 min_speech: float = 0.5, speaker_mvn: Optional[np.ndarray] = None) -> List[Dict]:
        """Emotion over time: one row per window (:mod:`espnet_ser.inference.timeline`); ``gate`` none,
        energy or silero leaves windows without speech unscored (``gated``)."""
        from espnet_ser.inference.timeline import make_gate, timeline

        return list(timeline(self, path, window_s, hop_s, make_gate(gate), min_speech, speaker_mvn))

    @torch.no_grad()
    def predict_file(self, path: Union[str, Path], window_s: float = 20.0, speaker_mvn: Optional[np.ndarray] = None) -> Dict:
        """A whole file, window by window, aggregated (duration-weighted means)."""
        outs, weights = [], []
        stats = self._stats(speaker_mvn)
        for wav, dur in self.windows(path, window_s):
            outs.append(self.predict_batch(wav.unsqueeze(0), torch.tensor([wav.numel()]), stats))
            weights.append(dur)
        w = torch.tensor(weights) / sum(weights)
        # each output (passes or not) is averaged over the windows; an item's axis is the one before the last
        agg = {k: None if outs[0].get(k) is None else
               (torch.stack([o[k].float().cpu() for o in outs]) * w.view(-1, *[1] * outs[0][k].dim())).sum(0)
               for k in outs[0]}
        result = self.format(agg, 0)
        result["windows"] = len(weights)
        return result


#: a packed model unpacks to at most this many times its zip's size (or MAX_UNPACKED_FLOOR bytes): weights and
#: statistics compress little, a crafted zip of zeros a thousandfold
MAX_UNPACK_RATIO, MAX_UNPACKED_FLOOR = 10, 64 * 2 ** 20


def check_packed_zip(path: Path, infos) -> None:
    """Refuse, before anything is extracted, a zip that is not a packed network: a packed classical system, a
    member with a directory part, or more unpacked bytes than :data:`MAX_UNPACK_RATIO` times the zip's size."""
    names = [i.filename for i in infos]
    if "model.skops" in names:
        raise InputError(f"{path}: a packed classical system (model.skops): it predicts from a feature cache "
                         "(python -m espnet_ser.bin.classical predict)")
    nested = [n for n in names if Path(n).name != n or n.startswith(".")]
    if nested:
        raise InputError(f"{path}: members with a directory part ({', '.join(nested[:3])}): not a packed model")
    total, size = sum(i.file_size for i in infos), Path(path).stat().st_size
    if total > max(MAX_UNPACKED_FLOOR, MAX_UNPACK_RATIO * size):
        raise InputError(f"{path}: would unpack to {total / 2 ** 20:.0f} MiB from {size / 2 ** 20:.1f} MiB: refused "
                         "(a packed model's weights compress little)")


class Speech2Emotion(WindowedPredictor):
    def __init__(
        self,
        train_config: Union[str, Path],
        model_file: Optional[Union[str, Path]] = None,
        device: str = "cpu",
        attach_source: bool = True,
        dtype: str = "fp32",
    ):
        model, args = build_model(train_config, model_file, device)
        if model.frontend is None:
            raise InputError(
                f"{train_config}: this model reads cached features (input_size={args.input_size}), not audio; "
                "extract features with the same frontend first"
            )
        self.model = model.eval()
        self.args = args
        self.source = str(model_file or train_config)
        self.device = device
        self.class_list = list(model.class_list)
        self.fs = int((args.frontend_conf or {}).get("fs", 16000))
        self.dtype, self.dtype_reason = "fp32", "default"
        self.untrained = untrained_outputs(args)
        #: MC-dropout passes per input (0: one deterministic pass); set by ``ser_inference --mc_dropout``
        self.mc_dropout = 0
        self.needs_speaker_stats = isinstance(model.normalize, SpeakerMVN)
        if self.untrained:
            logging.warning("%s: no training label reached the %s head(s); their outputs are not written",
                            train_config, " and ".join(self.untrained))
        if attach_source:
            self.attach_source()
            self.set_dtype(dtype)

    def set_dtype(self, choice: str = "auto") -> str:
        """Run the frozen upstream in ``fp32``, ``bf16`` or ``auto`` (``espnet_ser.compute_dtype``); the
        conformer, pooling and heads stay fp32. Returns the type chosen (``dtype_reason`` says why)."""
        self.dtype, self.dtype_reason = compute_dtype.resolve(choice, self.device)
        if self.dtype != "fp32" and compute_dtype.apply(self.model, self.dtype) == 0:
            self.dtype_reason += "; this model has no frozen upstream to cast (fbank), so it runs as it is"
        return self.dtype

    def attach_source(self) -> None:
        """A model trained on cached features reads audio through its recorded source frontend."""
        if isinstance(self.model.frontend, CachedFeatures):
            source = source_frontend(self.model.frontend).to(self.device)
            self.model.frontend = AudioThroughCache(source, self.model.frontend)

    @classmethod
    def from_exp_dir(cls, exp_dir: Union[str, Path], model_file: Optional[str] = None, device: str = "cpu",
                     dtype: str = "fp32"):
        """The best checkpoint of an ESPnet exp dir (``best_model_pth``), or ``model_file`` inside it."""
        exp = Path(exp_dir)
        self = cls(exp / "config.yaml", exp / (model_file or best_model_pth(exp)), device, dtype=dtype)
        self.conformal = load_conformal(exp / CONFORMAL_IN_EXP)
        return self

    @classmethod
    def from_pretrained(cls, path: Union[str, Path], device: str = "cpu", dtype: str = "fp32") -> "Speech2Emotion":
        """A packed model (zip from ``pack_model``) or an exp dir. Zip weights load with
        ``torch.load(weights_only=True)``: no arbitrary unpickling from a file of unknown origin."""
        path = Path(path)
        if path.is_dir():
            if not (path / "config.yaml").is_file():
                raise MissingInput(f"{path}: not an exp dir (no config.yaml) and not a packed model zip")
            return cls.from_exp_dir(path, device=device, dtype=dtype)
        if not path.exists():
            raise MissingInput(f"{path}: model not found")
        if not zipfile.is_zipfile(path):
            raise InputError(f"{path}: neither an exp dir nor a packed model zip")
        with zipfile.ZipFile(path) as z:
            check_packed_zip(path, z.infolist())
            tmp = tempfile.TemporaryDirectory(prefix="espnet_ser_model_")
            z.extractall(tmp.name)
        config = unpack_config(Path(tmp.name))
        if not (Path(tmp.name) / "model.pth").is_file():
            raise InputError(f"{path}: a packed model holds model.pth; this zip has none")
        self = cls(config, None, device, attach_source=False)
        state = safe_load.load(Path(tmp.name) / "model.pth", map_location=device)
        load_weights(self.model, state, f"{path}: model.pth")
        self.attach_source()
        self.set_dtype(dtype)
        self._tmp = tmp  # the normalisation stats file must outlive the constructor
        self.source = str(path)
        self.conformal = load_conformal(Path(tmp.name) / CONFORMAL_NAME)
        return self

    @torch.no_grad()
    def predict_batch(self, speech: torch.Tensor, lengths: torch.Tensor,
                      speaker_mvn: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        """Raw model outputs for a padded batch of mono waveforms at the model's sample rate; with
        ``mc_dropout`` S > 0 also ``probs_passes`` and ``vad_passes`` (S, B, ...), whose means they are.
        ``speaker_mvn`` (B, 2 D): the speakers' statistics, for a model normalised with ``speaker_mvn``."""
        speech, lengths = speech.to(self.device), lengths.to(self.device)
        if speaker_mvn is not None:
            speaker_mvn = speaker_mvn.to(self.device)
        if self.mc_dropout:
            passes = mc_dropout_passes(self.model, speech, lengths, self.mc_dropout, speaker_mvn)
            out = {"probs": None if passes["probs"] is None else passes["probs"].mean(0),
                   "vad": None if passes["vad"] is None else passes["vad"].mean(0)}
            out.update({f"{k}_passes": v for k, v in passes.items()})
        else:
            out = self.model.predict(speech, lengths, speaker_mvn)
        return {k: (None if OUTPUT_TYPE[k.replace("_passes", "")] in self.untrained else v) for k, v in out.items()}
