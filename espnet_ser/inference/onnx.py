"""ONNX export of a trained SER model, and an onnxruntime predictor with the torch one's windowing.

What is exported: the whole model applied to audio, i.e. the frozen frontend (fbank or HF HuBERT; for a model trained on cached features, its recorded source frontend followed by the cached
layer weighting), the normalisation, the conformer, the pooling and the heads that training reached.
An ``s3prl`` HuBERT frontend (the paper's configs) is exported as transformers' ``HubertModel`` with the
same weights (:mod:`espnet_ser.model.frontend.convert`: s3prl's fairseq-style model pads its frames
with Python arithmetic that a trace would freeze at one length); metadata ``converted`` says so.

The graph (opset 17 by default, TorchScript-based exporter):

- input ``speech``: float32, shape (1, samples), mono audio at the model's sample rate (metadata
  ``fs``). One utterance per run: only the ``samples`` axis is dynamic. The torch model trims a padded
  batch to its longest item with a data-dependent slice, which neither exporter can keep dynamic; one
  utterance per run needs no padding and no slice.
- outputs ``probs`` (1, C) class probabilities (softmax; the class order is metadata ``class_list``)
  and/or ``vad`` (1, 3) valence, arousal, dominance on the 0-1 scale: only the heads a training
  label reached (``espnet_ser.inference.speech2emotion.untrained_outputs``).
- metadata (``custom_metadata_map``): ``class_list`` (JSON), ``fs``, ``outputs``, ``max_seconds``,
  ``source``, ``espnet_ser``, ``opset``, ``export_check`` (the largest output difference torch vs
  onnxruntime measured when exporting).

``max_seconds`` is the longest input the graph takes: the conformer's relative positional encoding
is a fixed table (ESPnet's default: 5000 frames, 100 s of HuBERT frames) that the torch model extends
on demand but the graph cannot. ``ser_inference --backend onnx`` cuts files into windows of about
``--window`` seconds (at most 1.5 x the window) and refuses a window that could exceed it.

The graph is always fp32 (``--dtype`` applies to the torch backend). ``int8=True`` additionally
quantizes the weights of the linear layers (onnxruntime dynamic quantization).
"""

import json
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import torch

import espnet_ser
from espnet_ser.errors import InputError
from espnet_ser.inference.speech2emotion import OUTPUT_TYPE, WindowedPredictor

DEFAULT_OPSET = 17


class ConvStft(torch.nn.Module):
    """ESPnet's ``Stft`` (centred, reflect-padded, one-sided, not normalised) as a strided convolution
    with windowed DFT kernels: real-valued operations only, since ONNX's STFT takes no complex output.
    Same output layout: (B, frames, n_fft // 2 + 1, 2 = real/imag) and frame counts."""

    def __init__(self, stft: torch.nn.Module):
        super().__init__()
        if stft.normalized or not stft.onesided:
            raise InputError("ONNX export supports the one-sided, unnormalised STFT of the fbank frontend only")
        self.n_fft, self.hop, self.center = int(stft.n_fft), int(stft.hop_length), bool(stft.center)
        win = int(stft.win_length or stft.n_fft)
        window = getattr(torch, f"{stft.window}_window")(win, dtype=torch.float64) if stft.window else torch.ones(win, dtype=torch.float64)
        padded = torch.zeros(self.n_fft, dtype=torch.float64)
        left = (self.n_fft - win) // 2  # torch.stft centres a shorter window in the n_fft frame
        padded[left:left + win] = window
        k = torch.arange(self.n_fft // 2 + 1, dtype=torch.float64)[:, None]
        n = torch.arange(self.n_fft, dtype=torch.float64)[None]
        angle = 2 * np.pi * ((k * n) % self.n_fft) / self.n_fft
        kernel = torch.cat([torch.cos(angle) * padded, -torch.sin(angle) * padded])  # X_k = sum_n x_n w_n e^{-i angle}
        self.register_buffer("kernel", kernel[:, None, :].float(), persistent=False)

    def forward(self, input: torch.Tensor, ilens: torch.Tensor):
        x = input[:, None, :]
        if self.center:
            x = torch.nn.functional.pad(x, (self.n_fft // 2, self.n_fft // 2), mode="reflect")
            ilens = ilens + 2 * (self.n_fft // 2)
        y = torch.nn.functional.conv1d(x, self.kernel, stride=self.hop)  # (B, 2F, frames)
        bins = self.n_fft // 2 + 1
        out = torch.stack([y[:, :bins], y[:, bins:]], dim=-1).transpose(1, 2)  # (B, frames, F, 2)
        olens = torch.div(ilens - self.n_fft, self.hop, rounding_mode="trunc") + 1
        frames = torch.arange(out.size(1), device=out.device)[None, :, None, None]
        return out.masked_fill(frames >= olens[:, None, None, None], 0.0), olens


class exportable:
    """Within the block, every fbank frontend of ``model`` computes its STFT with :class:`ConvStft`, and
    every frontend with an ``export_twin`` is that twin: an s3prl HuBERT frontend its transformers twin
    (same weights, layers, frames), a LoRA-tuned upstream a copy with its adapters merged."""

    def __init__(self, model: torch.nn.Module):
        from espnet2.asr.frontend.default import DefaultFrontend

        from espnet_ser.model.frontend.s3prl import S3prlFrozenFrontend

        self.swapped = [(m, m.stft) for m in model.modules() if isinstance(m, DefaultFrontend) and m.stft is not None]
        self.twins = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children()
                      if callable(getattr(child, "export_twin", None))]
        self.s3prl = any(isinstance(c, S3prlFrozenFrontend) for _, _, c in self.twins)
        self.converted = None

    def __enter__(self):
        for m, stft in self.swapped:
            m.stft = ConvStft(stft)
        swapped = False
        for parent, name, child in self.twins:
            twin = child.export_twin()
            if twin is not None:
                setattr(parent, name, twin)
                swapped = True
        if swapped:
            self.converted = ("s3prl HuBERT -> transformers HubertModel (same weights)" if self.s3prl
                              else "LoRA adapters merged into the weights")
        return self

    def __exit__(self, *exc):
        for m, stft in self.swapped:
            m.stft = stft
        for parent, name, child in self.twins:
            setattr(parent, name, child)


class OneUtterance(torch.nn.Module):
    """Audio (1, samples) -> the model's trained outputs, with no padding and no data-dependent slice."""

    def __init__(self, model: torch.nn.Module, outputs: List[str]):
        super().__init__()
        self.model = model
        self.outputs = outputs

    def forward(self, speech: torch.Tensor):
        lengths = torch.ones_like(speech[:, 0], dtype=torch.long) * speech.size(1)
        m = self.model
        feats, feat_lengths = m.frontend(speech, lengths)
        if m.normalize is not None:
            feats, feat_lengths = m.normalize(feats, feat_lengths)
        hs, hs_lengths, _ = m.encoder(feats, feat_lengths)
        out = m.decoder(hs, hs_lengths)
        result = {"probs": torch.softmax(m.mask_untrained(out["logits"]), dim=-1) if out["logits"] is not None else None,
                  "vad": out["vad"]}
        return tuple(result[k] for k in self.outputs)


def longest_input_seconds(model: torch.nn.Module, fs: int) -> Optional[float]:
    """Seconds of audio whose encoder frames still fit the positional-encoding tables (None: no table)."""
    tables = [m.pe for m in model.encoder.modules() if isinstance(getattr(m, "pe", None), torch.Tensor)]
    if not tables:
        return None
    # relative tables hold 2 L - 1 positions, absolute ones L: the smaller reading is the safe one
    frames = min(t.size(1) // 2 + 1 for t in tables)
    with torch.no_grad():
        speech = torch.zeros(1, fs * 4)
        feats, lens = model.frontend(speech, torch.tensor([fs * 4]))
        if model.normalize is not None:
            feats, lens = model.normalize(feats, lens)
        _, hs_lengths, _ = model.encoder(feats, lens)
    frames_per_second = float(hs_lengths[0]) / 4.0
    return float(np.floor(frames / frames_per_second * 0.99))


def export_onnx(s2e, out_path: Union[str, Path], opset: int = DEFAULT_OPSET, int8: bool = False,
                check_seconds=(1.0, 3.7)) -> Dict:
    """Write ``s2e``'s model (a :class:`espnet_ser.inference.speech2emotion.Speech2Emotion`) as ONNX; returns its metadata.

    The export is checked: onnxruntime and torch are run on random inputs of ``check_seconds`` and the
    largest absolute output difference is recorded (``export_check``)."""
    import onnx

    from espnet_ser import compute_dtype

    if s2e.dtype != "fp32":  # the graph is fp32: undo a bf16 cast of the frozen upstream
        compute_dtype.apply(s2e.model, "fp32")
    model = s2e.model.eval()
    heads = {"probs": model.decoder.num_classes > 0, "vad": model.decoder.num_dims > 0}
    outputs = [k for k in ("probs", "vad") if heads[k] and OUTPUT_TYPE[k] not in s2e.untrained]
    if not outputs:
        raise InputError("this model has no trained head to export")
    from espnet_ser.model.frontend.opensmile_frontend import OpenSmileFrontend

    if any(isinstance(m, OpenSmileFrontend) for m in model.modules()):
        raise InputError("the opensmile frontend cannot be exported: openSMILE computes its features in its own C++ "
                         "code, outside torch, so no graph can hold it; run the model with the torch backend")
    if s2e.needs_speaker_stats:
        raise InputError("a speaker_mvn model cannot be exported: the graph takes one waveform, and this model also "
                         "needs its speaker's statistics; run it with the torch backend (ser_inference --utt2spk)")
    graph = OneUtterance(model, outputs).eval()
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    example = torch.randn(1, int(s2e.fs * 2.0))
    # the exporter warns about every Python branch it freezes; those frozen here are covered by OneUtterance
    # (no padding) and max_seconds (positional tables)
    with torch.no_grad(), warnings.catch_warnings(), exportable(model) as swap:
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (example,), str(tmp), input_names=["speech"], output_names=outputs,
                          dynamic_axes={"speech": {1: "samples"}}, opset_version=opset, dynamo=False)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = tmp.with_name(tmp.name + ".int8")
        quantize_dynamic(str(tmp), str(q), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"])
        q.replace(tmp)
    # checked against the model as it is (an s3prl frontend: s3prl itself, not its converted twin)
    diff, session = 0.0, _load_session(tmp, None)
    gen = torch.Generator().manual_seed(0)
    for seconds in check_seconds:
        x = 0.1 * torch.randn(1, int(s2e.fs * seconds), generator=gen)
        with torch.no_grad():
            ref = graph(x)
        got = session.run(None, {"speech": x.numpy()})
        diff = max([diff] + [float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref)])
    del session
    meta = {"class_list": json.dumps(s2e.class_list), "fs": str(s2e.fs), "outputs": json.dumps(outputs),
            "max_seconds": json.dumps(longest_input_seconds(model, s2e.fs)), "opset": str(opset), "converted": json.dumps(swap.converted),
            "espnet_ser": espnet_ser.__version__, "source": str(getattr(s2e, "source", "")),
            "int8": json.dumps(int8), "export_check": json.dumps({"seconds": list(check_seconds), "max_abs_diff": diff})}
    proto = onnx.load(str(tmp))  # the graph is read and written once more, for its metadata
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(tmp))
    tmp.replace(out)  # a half-written graph never takes the final name
    return meta


def _load_session(path: Path, threads: Optional[int]):
    import onnxruntime as ort

    so = ort.SessionOptions()
    if threads:
        so.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class OnnxSpeech2Emotion(WindowedPredictor):
    """An exported graph run by onnxruntime (CPU), with ``Speech2Emotion``'s ``__call__``,
    ``predict_file`` (windowing, duration-weighted aggregation) and output format."""

    def __init__(self, path: Union[str, Path], threads: Optional[int] = None):
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: ONNX model not found")
        try:
            self.session = _load_session(path, threads)
        except Exception as e:  # noqa: BLE001 - onnxruntime's reasons vary; the file is named with them
            raise InputError(f"{path}: not a loadable ONNX model ({str(e).splitlines()[0][:200]})") from e
        meta = self.session.get_modelmeta().custom_metadata_map
        if "class_list" not in meta or "fs" not in meta:
            raise InputError(f"{path}: not an espnet_ser export (no class_list/fs metadata)")
        self.path = path
        self.class_list = json.loads(meta["class_list"])
        self.fs = int(meta["fs"])
        self.max_seconds = json.loads(meta.get("max_seconds", "null"))
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.dtype, self.dtype_reason = "fp32", "onnx graph" + (" with int8 weights" if json.loads(meta.get("int8", "false")) else "")

    def run(self, wav: np.ndarray) -> Dict[str, np.ndarray]:
        """One mono utterance (samples,) at ``fs`` -> {output name: array (1, ...)}."""
        if self.max_seconds is not None and wav.shape[0] > self.max_seconds * self.fs:
            raise InputError(f"{self.path}: input of {wav.shape[0] / self.fs:.1f} s exceeds the graph's "
                             f"{self.max_seconds:.0f} s (use windows: --window)")
        values = self.session.run(None, {"speech": np.ascontiguousarray(wav, dtype=np.float32)[None]})
        return dict(zip(self.outputs, values))

    def predict_batch(self, speech: torch.Tensor, lengths: torch.Tensor,
                      speaker_mvn: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        rows = [self.run(speech[i, : int(lengths[i])].cpu().numpy()) for i in range(speech.size(0))]
        return {k: (torch.from_numpy(np.concatenate([r[k] for r in rows])) if k in self.outputs else None)
                for k in ("probs", "vad")}
