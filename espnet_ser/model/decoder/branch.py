"""Building blocks shared by the decoder variants (paper section 2).

A *branch* is self-attentive (or other) pooling over the encoder output followed by an MLP
(encoder dim -> 64 -> 32 by default, LeakyReLU, dropout 0.2); its output is the task embedding
(E_D for the discrete task, E_C for the continuous one). Heads map an embedding (or a concatenation
of embeddings, for the hierarchical variants) to class logits or to V/A/D through a ReLU.
"""

import logging
import math
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import torch

from espnet_ser.errors import InputError
from espnet_ser.model.decoder.abs_decoder import AbsSERDecoder
from espnet_ser.model.pooling.abs_pooling import AbsPooling
from espnet_ser.model.pooling.self_attentive import SelfAttentivePooling


FUSIONS = ("mean", "product")
#: what a closed-form member (kernel ridge, LDA) learns from: one pooled vector per utterance, or every valid frame
CLOSED_FORM_INPUTS = ("pooled", "frames")


def fuse(logits: Sequence[torch.Tensor], fusion: str = "mean") -> torch.Tensor:
    """Log of the members' fused class distribution: ``mean``, the mean of their distributions; ``product``,
    the normalised geometric mean (the mean of their log-distributions, renormalised: the product rule of
    classifier combination, Kittler et al. 1998), where a member giving a class little probability vetoes it.

    >>> p = [torch.tensor([[0.5, 0.5]]).log(), torch.tensor([[0.9, 0.1]]).log()]
    >>> [round(v, 4) for v in fuse(p).exp()[0].tolist()], [round(v, 4) for v in fuse(p, "product").exp()[0].tolist()]
    ([0.7, 0.3], [0.75, 0.25])
    """
    logp = torch.stack([torch.log_softmax(x, dim=-1) for x in logits])
    if fusion == "product":
        return torch.log_softmax(logp.mean(0), dim=-1)
    return torch.logsumexp(logp, dim=0) - math.log(len(logits))


def prior_corrected(logits: torch.Tensor, class_counts: torch.Tensor) -> torch.Tensor:
    """Log of the class distribution as if the classes were equally frequent: ``p(k | x) / pi_k``
    renormalised, ``pi`` the training classes' frequencies ``class_counts / sum`` (a class never seen counts
    once). Its argmax is the decision that maximises the expected unweighted accuracy (UA, the mean of the
    per-class recalls). Without counts (a model never trained), the distribution is unchanged.

    >>> p = torch.tensor([[0.6, 0.4]]).log()   # classes seen 3 : 1 -> 0.6 / 0.75 : 0.4 / 0.25 = 1 : 2
    >>> [round(v, 4) for v in prior_corrected(p, torch.tensor([3.0, 1.0])).exp()[0].tolist()]
    [0.3333, 0.6667]
    >>> torch.equal(prior_corrected(p, torch.zeros(2)), p)   # nothing counted: unchanged
    True
    """
    counts = class_counts.float()
    if not counts.sum() > 0:
        return logits
    log_prior = torch.log(counts.clamp(min=1.0) / counts.sum()).to(logits.dtype)
    return torch.log_softmax(torch.log_softmax(logits, dim=-1) - log_prior, dim=-1)


class RandomFourierFeatures(torch.nn.Module):
    """Random Fourier features of a Gaussian (RBF) kernel (Rahimi and Recht, 2007), fixed, not trained.

    ``z(x) = sqrt(2 / n) * cos(x W + b)`` with ``W ~ N(0, 2 gamma)`` (``input_size`` x ``n``) and ``b ~ U(0, 2 pi)``,
    so that ``z(x) . z(y)`` approximates ``exp(-gamma * |x - y|^2)``; ``gamma = 1 / input_size`` by default
    (scikit-learn's ``gamma="scale"`` on standardised inputs, as its RBF SVM uses). A linear layer on
    ``z`` is then a kernel machine whose only trained weights are that layer's. ``W`` and ``b`` are drawn
    from torch's generator when the model is built (seeded by ``--seed``) and are saved with the model.

    >>> _ = torch.manual_seed(0)
    >>> rff = RandomFourierFeatures(4, 20000)
    >>> x, y = torch.zeros(1, 4), torch.full((1, 4), 0.5)
    >>> round(float(rff(x) @ rff(y).T), 2), round(math.exp(-(4 * 0.5 ** 2) / 4), 2)
    (0.78, 0.78)
    """

    def __init__(self, input_size: int, n: int, gamma: Optional[float] = None):
        super().__init__()
        gamma = 1.0 / input_size if gamma is None else float(gamma)
        self.register_buffer("weight", torch.randn(input_size, n) * math.sqrt(2.0 * gamma))
        self.register_buffer("phase", torch.rand(n) * 2.0 * math.pi)
        self.n = int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return math.sqrt(2.0 / self.n) * torch.cos(x @ self.weight.to(x.dtype) + self.phase.to(x.dtype))


class StoredInputs(torch.nn.Module):
    """Up to ``n`` stored training inputs (buffers ``landmarks``, and ``filled`` marking the stored slots, which
    come first) and the RBF kernel ``exp(-gamma |x - l|^2)`` against them, ``gamma = 1 / input_size`` by
    default: what :class:`LandmarkKernel` and the closed-form solvers (:class:`LabelledInputs`) share.
    :meth:`_store` stores the rows not stored yet and calls :meth:`_added` (for a subclass's own state); new rows
    beyond the ``n`` slots are not stored, said in the log. A saved model holds the stored rows only
    (``slot_buffers``): its size follows what was stored, not ``n``."""

    def __init__(self, input_size: int, n: int, gamma: Optional[float] = None):
        super().__init__()
        self.gamma = 1.0 / input_size if gamma is None else float(gamma)
        self.n = int(n)
        self.register_buffer("landmarks", torch.zeros(self.n, input_size))
        self.register_buffer("filled", torch.zeros(self.n))
        self._keys: Optional[set] = None

    def kernel(self, x: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
        """exp(-gamma |x - l|^2), computed in float32 (torch's cdist has no bfloat16 on CPUs)."""
        return torch.exp(-self.gamma * torch.cdist(x.float(), landmarks.float()).pow(2))

    @torch.no_grad()
    def _store(self, x: torch.Tensor) -> torch.Tensor:
        """Store the rows of ``x`` not stored yet (exact comparison of their stored values: the next epochs bring
        the same inputs again; rows with a NaN or an infinity are not stored), while slots are left; then
        :meth:`_added`. Gives the indices of the rows of ``x`` stored."""
        have = int(self.filled.sum().item())
        if self._keys is None:  # the stored rows' keys, rebuilt after a load
            self._keys = set(self._row_keys(self.landmarks[:have]))
        x = x.to(self.landmarks.dtype)
        keys = self._row_keys(x)
        rows, left = [], 0
        for i in torch.nonzero(torch.isfinite(x).all(1)).flatten().tolist():
            key = keys[i]
            if key in self._keys:
                continue
            if have + len(rows) < self.n:
                self._keys.add(key)
                rows.append(i)
            else:
                left += 1
        if left:  # the batch that fills the slots: the only one still checked, so the one place to say so
            logging.warning(f"{type(self).__name__}: its {self.n} slots are full; {left} new training input(s) of this "
                            "batch are not stored, and none of the later batches (raise its size in decoder_conf)")
        rows = torch.tensor(rows, dtype=torch.long, device=x.device)
        end = have + len(rows)
        if end > have:
            self.landmarks[have:end] = x[rows]
            self.filled[have:end] = 1.0
            self._added(have, end)
        return rows

    @staticmethod
    def _row_keys(x: torch.Tensor) -> List[bytes]:
        """Each row's exact value as bytes (+ 0.0 makes -0.0 and 0.0 one key), made in one step."""
        return [row.tobytes() for row in (x + 0.0).cpu().numpy()]

    #: buffers with one row per slot: saved with the stored rows only, the empty slots (zeros) restored on load
    slot_buffers: Tuple[str, ...] = ("landmarks",)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        m = int(self.filled.sum().item())
        for name in self.slot_buffers:
            destination[prefix + name] = destination[prefix + name][:m].clone()  # a view would save the whole storage

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        self._keys = None
        for name in self.slot_buffers:  # rows saved for the stored slots only: the empty ones back as zeros
            saved, own = state_dict.get(prefix + name), getattr(self, name)
            if saved is not None and saved.dim() == own.dim() and saved.shape[1:] == own.shape[1:] \
                    and saved.shape[0] < own.shape[0]:
                state_dict[prefix + name] = torch.cat([saved, saved.new_zeros(own.shape[0] - saved.shape[0], *own.shape[1:])])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _added(self, start: int, end: int) -> None:
        """Landmarks ``start:end`` were stored."""


class LandmarkKernel(StoredInputs):
    """An exact RBF kernel against up to ``n`` stored training inputs (landmarks), each column standardised.

    ``(exp(-gamma * |x - l_j|^2) - mean_j) * scale_j`` for landmark ``l_j``, where ``mean_j`` and ``1 / scale_j``
    are that kernel column's mean and standard deviation over the landmarks (``scale_j = 0`` where it is
    constant); ``gamma = 1 / input_size`` by default, as for :class:`RandomFourierFeatures`. A linear layer on
    it is a kernel machine over the training utterances themselves (an empirical kernel map, as in Nystroem's
    method without its whitening): on wide inputs (emobase's 988 functionals) random Fourier features
    approximate the kernel too coarsely, and the standardisation lets Adam train the layer in 40 epochs.

    The landmarks are the first ``n`` distinct inputs the module sees in training mode (the first epoch's
    batches, in the sampler's shuffled order: every training utterance of a small corpus once, a random
    subset of a large one); an input equal to a stored one (the same utterance in a later epoch) is not
    stored again (with inputs that change between epochs, augmented ones, later epochs fill the slots left).
    The statistics are recomputed as landmarks are added. Empty slots give 0. All are
    buffers, saved with the model (the float ``filled`` marks the stored slots: ESPnet's checkpoint
    averaging sums integer buffers). Meant for frozen inputs (a frozen frontend, an identity encoder): a
    trained encoder would leave the landmarks behind its outputs.

    >>> k = LandmarkKernel(2, 3)
    >>> for epoch in range(2):  # two landmarks stored once; the third slot stays empty
    ...     _ = k.train()(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    >>> z = k.eval()(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))  # exp(-1) or 1, standardised over the two landmarks
    >>> [[round(v, 4) for v in row] for row in z.tolist()]
    [[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]]
    """

    def __init__(self, input_size: int, n: int, gamma: Optional[float] = None):
        super().__init__(input_size, n, gamma)
        self.register_buffer("mean", torch.zeros(self.n))
        self.register_buffer("scale", torch.zeros(self.n))

    def _added(self, start: int, end: int) -> None:
        """Recompute the columns' statistics over the ``end`` stored."""
        k = self.kernel(self.landmarks[:end], self.landmarks[:end])
        std = k.std(0, unbiased=False)
        self.mean[:end] = k.mean(0)
        self.scale[:end] = torch.where(std > 1e-6, 1.0 / std.clamp_min(1e-6), torch.zeros_like(std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.filled[-1] == 0:
            self._store(x.detach())
        m = int(self.filled.sum().item())  # the stored slots come first; empty ones give 0
        k = torch.zeros(x.shape[0], self.n, device=x.device)
        k[:, :m] = (self.kernel(x, self.landmarks[:m]) - self.mean[:m].float()) * self.scale[:m].float()
        return k.to(x.dtype)


class LabelledInputs(StoredInputs):
    """Stored inputs with their one-hot classes (buffer ``targets``), stored only from :meth:`observe`: what the
    closed-form members (:class:`KernelRidge`, :class:`ShrinkageLDA`) solve from. A subclass's :meth:`_solve`
    result is cached (``_solution``) until inputs are added or loaded."""

    slot_buffers = ("landmarks", "targets")

    def __init__(self, input_size: int, n: int, num_classes: int, gamma: Optional[float] = None):
        super().__init__(input_size, n, gamma)
        self.register_buffer("targets", torch.zeros(self.n, num_classes))
        self._solution: Optional[Tuple] = None

    @torch.no_grad()
    def observe(self, x: torch.Tensor, labels: torch.Tensor) -> "LabelledInputs":
        """In training mode, store the labelled rows of ``x`` (``labels`` (B,), -1 where unknown) not stored yet."""
        if self.training and self.filled[-1] == 0:
            known = labels >= 0
            rows = self._store(x.detach()[known])
            if len(rows):
                have = int(self.filled.sum().item())
                self.targets[have - len(rows):have] = torch.nn.functional.one_hot(
                    labels[known][rows].long(), self.targets.shape[1]).to(self.targets.dtype)
        return self

    def _added(self, start: int, end: int) -> None:
        self._solution = None

    def _load_from_state_dict(self, *args, **kwargs):
        self._solution = None
        super()._load_from_state_dict(*args, **kwargs)

    def solution(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """:meth:`_solve` over the ``m`` stored inputs (float64 in, float32 out), cached per ``m`` and device."""
        m = int(self.filled.sum().item())
        if self._solution is None or self._solution[:2] != (m, self.landmarks.device):
            a, b = self._solve(self.landmarks[:m].double(), self.targets[:m].double())
            self._solution = (m, self.landmarks.device, a.float(), b.float())
        return self._solution[2], self._solution[3]

    def _solve(self, x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class KernelRidge(LabelledInputs):
    """Kernel ridge regression of the class targets over stored labelled training inputs: a kernel machine
    solved in closed form, not trained by the optimiser (a least-squares SVM).

    The inputs are stored as :class:`LandmarkKernel` stores its landmarks, but only from :meth:`observe`, with each
    one's class (inputs whose class is unknown, -1, are not stored). With ``K`` the RBF kernel among the ``m``
    stored landmarks, ``Y`` their one-hot classes and ``y`` its column means, the scores of ``x`` are
    ``k(x) (K + ridge I)^-1 (Y - y) + y`` (``k(x)``: its kernel against the landmarks), and the output is the
    scores times ``temperature``: logits, whose softmax is averaged with the other members' distributions.
    The solution is recomputed after landmarks are added or loaded (in float64). Meant for frozen inputs, as
    :class:`LandmarkKernel` is.

    >>> r = KernelRidge(1, 2, num_classes=2, ridge=1.0, temperature=1.0)
    >>> _ = r.train().observe(torch.tensor([[0.0], [3.0], [5.0]]), torch.tensor([0, -1, 1]))
    >>> r.landmarks.tolist(), r.targets.tolist()  # the unlabelled input is not stored
    ([[0.0], [5.0]], [[1.0, 0.0], [0.0, 1.0]])
    >>> [round(v, 4) for v in r.eval()(torch.tensor([[0.0]]))[0].tolist()]  # (K + I)^-1 (Y - 0.5) + 0.5 at x = 0
    [0.75, 0.25]
    """

    def __init__(self, input_size: int, n: int, num_classes: int, ridge: float, temperature: float,
                 gamma: Optional[float] = None):  # no defaults for ridge, temperature: BranchedDecoder's are the one place
        super().__init__(input_size, n, num_classes, gamma)
        if not ridge > 0 or not temperature > 0:
            raise InputError(f"decoder_conf ridge {ridge!r} and ridge_temperature {temperature!r} must be positive")
        self.ridge, self.temperature = float(ridge), float(temperature)

    def _solve(self, x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        offset = y.mean(0) if len(y) else torch.zeros_like(self.targets[0], dtype=torch.float64)
        k = self.kernel(x, x).double()
        return torch.linalg.solve(k + self.ridge * torch.eye(len(y), dtype=k.dtype, device=k.device), y - offset), offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coef, offset = self.solution()
        scores = self.kernel(x, self.landmarks[: len(coef)]) @ coef + offset
        return (scores * self.temperature).to(x.dtype)


class ShrinkageLDA(LabelledInputs):
    """Linear discriminant analysis of stored labelled training inputs, solved in closed form (not trained).

    From the ``m`` stored inputs: class means ``M`` (K x d), priors ``p`` their classes' frequencies, and the
    pooled within-class covariance ``S`` (biased) shrunk to ``C = (1 - shrinkage) S + shrinkage tr(S) / d I``
    (Ledoit and Wolf's target). The scores of ``x`` are ``x C^-1 M^T - diag(M C^-1 M^T) / 2 + log p``, the
    log posteriors of Gaussian classes with the shared covariance ``C`` up to a constant; the output is them
    times ``temperature``. ``C^-1`` is applied through the Woodbury identity, an m x m solve, so the width of
    the inputs (6,373 ComParE functionals) costs little. The same scores as scikit-learn's
    ``LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage)`` (a test checks it). Inputs are
    stored as :class:`KernelRidge` stores them (up to ``n``, the labelled ones, from :meth:`observe`).

    >>> lda = ShrinkageLDA(2, 4, num_classes=2, shrinkage=0.5, temperature=1.0).train()
    >>> _ = lda.observe(torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [2.0, 4.0]]), torch.tensor([0, 0, 1, 1]))
    >>> # S = diag(1, 0), tr(S) / 2 = 0.5: C = diag(0.75, 0.25); at x = (1, 1) the class means (1, 0) and (1, 4)
    >>> # score 4/3 - 2/3 + log 0.5 and 52/3 - 98/3 + log 0.5
    >>> [round(v - math.log(0.5), 4) for v in lda.eval()(torch.tensor([[1.0, 1.0]]))[0].tolist()]
    [0.6667, -15.3333]
    """

    def __init__(self, input_size: int, n: int, num_classes: int, shrinkage: float, temperature: float):
        super().__init__(input_size, n, num_classes)
        if not 0 < shrinkage < 1 or not temperature > 0:
            raise InputError(f"decoder_conf lda_shrinkage {shrinkage!r} must lie in (0, 1) and lda_temperature "
                             f"{temperature!r} be positive")
        self.shrinkage, self.temperature = float(shrinkage), float(temperature)

    def _solve(self, x: torch.Tensor, y: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        m, d = x.shape
        counts = y.sum(0)
        means = (y.T @ x) / counts.clamp_min(1)[:, None]
        centred = x - y @ means
        scale = (1 - self.shrinkage) / max(m, 1)
        diagonal = self.shrinkage * (centred * centred).sum() / max(m, 1) / d  # C = scale centred^T centred + diagonal I
        if not diagonal > 0:  # no spread (one input per class, or none): the nearest class mean
            diagonal = torch.ones((), dtype=x.dtype, device=x.device)
        gram = torch.eye(m, dtype=x.dtype, device=x.device) / scale + centred @ centred.T / diagonal
        weights = (means.T - centred.T @ torch.linalg.solve(gram, centred @ means.T) / diagonal) / diagonal  # C^-1 M^T
        bias = -0.5 * (means * weights.T).sum(1) + torch.log(counts.clamp_min(1) / max(m, 1))
        return weights, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights, bias = self.solution()
        return ((x.float() @ weights + bias) * self.temperature).to(x.dtype)


class ClosedFormMember(torch.nn.Module):
    """A member of a grouped decoder solved in closed form: pooling -> a :class:`LabelledInputs` solver
    (``kernel_ridge``: :class:`KernelRidge`, attribute ``ridge``; ``lda``: :class:`ShrinkageLDA`, attribute
    ``lda``). It has class logits only (``vad`` None); it runs without gradients, so its loss trains nothing
    (neither its pooling nor the encoder): meant for frozen inputs and a pooling without weights (mean), as the
    openSMILE configuration has. The decoder passes it each training batch's classes
    (:meth:`LabelledInputs.observe`). In training mode its logits are 0, a uniform distribution, which moves no
    argmax of the members' average: its fit to the inputs it has just stored would make the training ``acc``
    read 1.

    ``frames`` (``decoder_conf closed_form_inputs: frames``) skips the pooling: every valid frame of a labelled
    utterance is a training input with that utterance's class, and an utterance's output is the mean of its
    frames' log-distributions (their normalised geometric mean): for a sequence of vectors that each describe
    the whole class, the openSMILE frontend's functionals of fixed windows (``frontend_conf window``)."""

    num_dims = 0

    def __init__(self, pooling: AbsPooling, solver: LabelledInputs, num_classes: int, frames: bool = False,
                 name: str = "ridge"):
        super().__init__()
        self.pooling = pooling
        self.add_module(name, solver)  # its state is saved under members.K.<name> only
        self.solver_name, self.num_classes, self.frames = name, num_classes, bool(frames)

    @property
    def solver(self) -> LabelledInputs:
        return getattr(self, self.solver_name)

    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        with torch.no_grad():  # solved in closed form: its loss trains nothing
            owner = None
            if self.frames:  # every valid frame, and the index of its utterance
                valid = torch.arange(hs.shape[1], device=hs.device)[None] < hs_lengths.to(hs.device)[:, None]
                inputs, owner = hs[valid], torch.nonzero(valid)[:, 0]
            else:
                inputs = self.pooling(hs, hs_lengths)
            if labels is not None:
                self.solver.observe(inputs, labels if owner is None else labels[owner])
            if self.training:  # a uniform distribution: it would fit the inputs it has just stored
                return {"logits": hs.new_zeros(hs.shape[0], self.num_classes), "vad": None}
            logits = self.solver(inputs)
            if owner is not None:  # an utterance: the mean of its frames' log-distributions
                logp = torch.log_softmax(logits, -1)
                total = logp.new_zeros(hs.shape[0], self.num_classes).index_add_(0, owner, logp)
                logits = total / hs_lengths.to(logp).clamp_min(1)[:, None]
            return {"logits": logits, "vad": None}


class EmbeddingBranch(torch.nn.Module):
    """pooling -> [Dropout(input_dropout)] -> [Linear -> LeakyReLU -> Dropout] per hidden size; gives a
    task embedding. ``input_dropout`` (default 0: no such layer, the paper's) drops pooled inputs, the
    regulariser of wide utterance vectors (6,373 openSMILE functionals) on a few hundred utterances.
    ``rbf_features`` N > 0 replaces the hidden layers with N fixed random Fourier features of an RBF kernel
    (:class:`RandomFourierFeatures`) -> Dropout: the heads on it are then a kernel machine;
    ``kernel_landmarks`` N > 0 does the same with the exact kernel against N stored training inputs
    (:class:`LandmarkKernel`)."""

    def __init__(self, pooling: AbsPooling, hidden_sizes: Sequence[int], dropout: float, negative_slope: float,
                 input_dropout: float = 0.0, rbf_features: int = 0, kernel_landmarks: int = 0):
        super().__init__()
        if not hidden_sizes and not rbf_features and not kernel_landmarks:
            raise ValueError("hidden_sizes must name at least one layer size")
        self.pooling = pooling
        layers, size = ([torch.nn.Dropout(input_dropout)] if input_dropout > 0 else []), self.pooling.output_size()
        if rbf_features or kernel_landmarks:
            kernel = RandomFourierFeatures(size, rbf_features) if rbf_features else LandmarkKernel(size, kernel_landmarks)
            layers += [kernel, torch.nn.Dropout(dropout)]
            size, hidden_sizes = rbf_features or kernel_landmarks, ()
        for h in hidden_sizes:
            layers += [torch.nn.Linear(size, h), torch.nn.LeakyReLU(negative_slope), torch.nn.Dropout(dropout)]
            size = h
        self.mlp = torch.nn.Sequential(*layers)
        self._size = size

    def output_size(self) -> int:
        return self._size

    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.pooling(hs, hs_lengths))


class VADHead(torch.nn.Module):
    """Linear -> ReLU: continuous outputs are kept non-negative (targets lie on a 0-1 scale).

    The bias starts at 0.5, the middle of the target range, so every output starts in the ReLU's active
    region: an output whose pre-activations all start negative would get no gradient and stay at 0.
    """

    INIT_BIAS = 0.5

    def __init__(self, input_size: int, num_dims: int = 3):
        super().__init__()
        self.linear = torch.nn.Linear(input_size, num_dims)
        torch.nn.init.constant_(self.linear.bias, self.INIT_BIAS)

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(emb))


class BranchedDecoder(AbsSERDecoder):
    """A decoder wired from task embeddings to heads, as the paper's variants are.

    A subclass (made by ``espnet_ser.model.decoder.Variant.load``) names the embeddings each head
    reads: ``class_from`` and ``vad_from`` are tuples of ``"d"`` (E_D, the discrete branch) and ``"c"``
    (E_C, the continuous branch), concatenated in that order; an empty tuple means no such head. The
    branches used are built first (E_D before E_C), then the class head, then the V/A/D head.
    """

    class_from: Tuple[str, ...] = ()
    vad_from: Tuple[str, ...] = ()

    def __init__(
        self,
        encoder_output_size: int,
        num_classes: int,
        pooling_class: Type[AbsPooling] = SelfAttentivePooling,
        pooling_conf: Optional[dict] = None,
        hidden_sizes: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        negative_slope: float = 0.01,
        num_dims: int = 3,
        input_dropout: Union[float, Sequence[float]] = 0.0,
        input_groups: Optional[Sequence[int]] = None,
        networks: Union[int, Sequence[int]] = 1,
        rbf_features: Union[int, Sequence[int]] = 0,
        kernel_landmarks: Union[int, Sequence[int]] = 0,
        kernel_ridge: Union[int, Sequence[int]] = 0,
        ridge: float = 0.03,
        ridge_temperature: float = 10.0,
        ridge_gamma_scale: float = 1.0,
        lda: Union[int, Sequence[int]] = 0,
        lda_shrinkage: float = 0.9,
        lda_temperature: float = 0.1,
        closed_form_inputs: str = "pooled",
        fusion: str = "mean",
        prior_correction: bool = False,
    ):
        """``input_groups`` (sizes summing to the encoder output size; default: one group) splits each frame
        into consecutive groups of features (e.g. two openSMILE feature sets side by side), each read by a
        whole decoder of its own, with its own ``input_dropout`` (one value, or one per group). The groups'
        class distributions and V/A/D are averaged (``logits`` are then the log of the mean distribution);
        ``members`` holds each group's outputs, and the model's loss is the mean of the groups' losses, so
        each group trains as it would alone: an ensemble of per-feature-set models trained in one model.
        ``networks`` (one value, or one per group; default 1) is 0 for a group that has no network of its own,
        only the members below (a view of the openSMILE frontend's windows read by closed-form members alone);
        the decoder needs at least one member with weights to train.

        ``rbf_features`` N > 0 gives the branches N fixed random Fourier features of an RBF kernel in place of
        their hidden layers (:class:`EmbeddingBranch`). With ``input_groups`` it is one value per group, and
        a group's N > 0 *adds* a member: a kernel machine on that group's features (N random Fourier
        features, no input dropout) beside the group's network, its distribution averaged with theirs
        (members: the groups' networks in order, then the kernel members in their groups' order).

        ``kernel_landmarks`` is the same with the exact RBF kernel against up to N training inputs stored
        while training (:class:`LandmarkKernel`); with ``input_groups`` its members come after the
        ``rbf_features`` ones. A branch without groups takes one of the two, not both.

        ``kernel_ridge`` (one value per group, ``input_groups`` only; a class head only) adds, for a group's
        N > 0, a kernel ridge member after those: the RBF kernel against up to N labelled training inputs,
        solved in closed form with ``ridge`` (:class:`KernelRidge`), its scores times ``ridge_temperature``
        as logits; its kernel's gamma is ``ridge_gamma_scale`` / the group's size.

        ``lda`` (one value per group, ``input_groups`` only; a class head only) adds, for a group's N > 0, a
        shrinkage LDA member after those: linear discriminant analysis of up to N labelled training inputs,
        solved in closed form with the covariance shrunk by ``lda_shrinkage`` (:class:`ShrinkageLDA`), its
        scores times ``lda_temperature`` as logits.

        ``closed_form_inputs``: what the kernel ridge and LDA members learn from: ``pooled`` (default), one
        pooled vector per utterance; ``frames``, every valid frame, an utterance's distribution the mean of its
        frames' log-distributions (:class:`ClosedFormMember`).

        ``fusion`` (``input_groups`` only) is how the members' class distributions are combined: ``mean`` or
        ``product`` (:func:`fuse`). Each member's loss is its own either way: only the decoder's output changes.

        ``prior_correction`` counts the training classes (the ``labels`` of training-mode forwards, buffer
        ``class_counts``) and, in eval mode, divides the class distribution by their frequencies
        (:func:`prior_corrected`): the distribution as if the classes were equally frequent, whose argmax
        maximises the expected unweighted accuracy (UA). Training forwards are unchanged; on a corpus whose
        training classes are equally frequent it changes nothing."""
        super().__init__()
        if fusion not in FUSIONS:
            raise InputError(f"decoder_conf fusion {fusion!r}: one of {', '.join(FUSIONS)}")
        if fusion != "mean" and not input_groups:
            raise InputError(f"decoder_conf fusion {fusion!r} combines the members of input_groups: it needs input_groups")
        if not ridge_gamma_scale > 0:
            raise InputError(f"decoder_conf ridge_gamma_scale {ridge_gamma_scale!r} must be positive")
        if closed_form_inputs not in CLOSED_FORM_INPUTS:
            raise InputError(f"decoder_conf closed_form_inputs {closed_form_inputs!r}: one of {', '.join(CLOSED_FORM_INPUTS)}")
        self.fusion, self.prior_correction = fusion, bool(prior_correction)
        if self.prior_correction:
            if not self.class_from:
                raise InputError("decoder_conf prior_correction corrects class distributions: this decoder has no class head")
            self.register_buffer("class_counts", torch.zeros(num_classes))
        drops = list(input_dropout) if isinstance(input_dropout, (list, tuple)) else None
        self.group_sizes: List[int] = [int(g) for g in input_groups] if input_groups else []
        if self.group_sizes:
            if sum(self.group_sizes) != encoder_output_size or min(self.group_sizes) < 1:
                raise InputError(f"decoder_conf input_groups {self.group_sizes} must be positive sizes summing to the "
                                 f"encoder output size {encoder_output_size}")
            drops = drops if drops is not None else [input_dropout] * len(self.group_sizes)
            if len(drops) != len(self.group_sizes):
                raise InputError(f"decoder_conf input_dropout has {len(drops)} values for {len(self.group_sizes)} input_groups")
            rbf = self._sizes_per_group("rbf_features", rbf_features)
            landmarks = self._sizes_per_group("kernel_landmarks", kernel_landmarks)
            ridges = self._sizes_per_group("kernel_ridge", kernel_ridge)
            ldas = self._sizes_per_group("lda", lda)
            nets = self._sizes_per_group("networks", networks)
            if max(nets) > 1:
                raise InputError(f"decoder_conf networks {nets}: 1 (a network for that group) or 0 (none) per group")
            # the closed-form members, in this order: (decoder_conf key, sizes per group, member name, solver for group k)
            closed_form = (
                ("kernel_ridge", ridges, "ridge", lambda k, n: KernelRidge(
                    self.group_sizes[k], n, num_classes, ridge, ridge_temperature, ridge_gamma_scale / self.group_sizes[k])),
                ("lda", ldas, "lda", lambda k, n: ShrinkageLDA(self.group_sizes[k], n, num_classes, lda_shrinkage,
                                                               lda_temperature)))
            for key, sizes, _, _ in closed_form:
                if any(sizes) and self.vad_from:
                    raise InputError(f"decoder_conf {key} fits class targets: a decoder with a V/A/D head takes none")
            # member k reads group self.member_groups[k]: each group's network, then each kernel member
            kernels = [(k, n, 0) for k, n in enumerate(rbf) if n] + [(k, 0, n) for k, n in enumerate(landmarks) if n]
            if not any(nets) and not kernels:
                raise InputError(f"decoder_conf networks {nets}: no group has a network or a kernel member, so nothing "
                                 "would train; give a group a network (1)")
            with_net = [k for k, on in enumerate(nets) if on]
            self.member_groups = with_net + [k for k, _, _ in kernels]
            member = lambda k, d, n, m: type(self)(self.group_sizes[k], num_classes, pooling_class, pooling_conf,  # noqa: E731
                                                   hidden_sizes, dropout, negative_slope, num_dims, float(d),
                                                   rbf_features=n, kernel_landmarks=m)
            self.members = torch.nn.ModuleList([member(k, drops[k], 0, 0) for k in with_net]
                                               + [member(k, 0.0, n, m) for k, n, m in kernels])
            self.num_classes, self.num_dims = self.members[0].num_classes, self.members[0].num_dims
            frames = closed_form_inputs == "frames"
            for _, sizes, name, solver in closed_form:  # then a kernel ridge member per group, then an LDA member
                for k, n in enumerate(sizes):
                    if n:
                        pooling = pooling_class(self.group_sizes[k], **(pooling_conf or {}))
                        self.members.append(ClosedFormMember(pooling, solver(k, n), num_classes, frames, name))
                        self.member_groups.append(k)
            return
        if drops is not None:
            raise InputError(f"decoder_conf input_dropout {drops}: one value per group needs input_groups")
        if networks != 1:
            raise InputError(f"decoder_conf networks {networks}: networks per group need input_groups")
        if kernel_ridge != 0:
            raise InputError(f"decoder_conf kernel_ridge {kernel_ridge}: kernel ridge members need input_groups")
        if lda != 0:
            raise InputError(f"decoder_conf lda {lda}: LDA members need input_groups")
        for name, value in (("rbf_features", rbf_features), ("kernel_landmarks", kernel_landmarks)):
            if isinstance(value, (list, tuple)):
                raise InputError(f"decoder_conf {name} {list(value)}: one value per group needs input_groups")
            if int(value) < 0:
                raise InputError(f"decoder_conf {name} must be 0 (none) or a number of features, got {value}")
        if int(rbf_features) and int(kernel_landmarks):
            raise InputError("decoder_conf rbf_features and kernel_landmarks: a branch without input_groups takes one")
        self.branches = [b for b in ("d", "c") if b in self.class_from + self.vad_from]
        for b in self.branches:
            pooling = pooling_class(encoder_output_size, **(pooling_conf or {}))
            setattr(self, f"branch_{b}", EmbeddingBranch(pooling, tuple(hidden_sizes), dropout, negative_slope, input_dropout,
                                                         int(rbf_features), int(kernel_landmarks)))
        size = lambda names: sum(getattr(self, f"branch_{b}").output_size() for b in names)  # noqa: E731
        if self.class_from:
            self.num_classes = num_classes
            self.class_head = torch.nn.Linear(size(self.class_from), num_classes)
        if self.vad_from:
            self.num_dims = num_dims
            self.vad_head = VADHead(size(self.vad_from), num_dims)

    def _sizes_per_group(self, name: str, value: Union[int, Sequence[int]]) -> List[int]:
        """``value`` (one size, or one per group of ``input_groups``) as one size per group; refused in one line
        unless there is one size, 0 or more, per group."""
        sizes = [int(n) for n in value] if isinstance(value, (list, tuple)) else [int(value)] * len(self.group_sizes)
        if len(sizes) != len(self.group_sizes) or min(sizes) < 0:
            raise InputError(f"decoder_conf {name} {sizes}: one size (0 or more) per group of input_groups "
                             f"{self.group_sizes}")
        return sizes

    def forward(self, hs: torch.Tensor, hs_lengths: torch.Tensor,
                labels: Optional[torch.Tensor] = None) -> Dict[str, Optional[torch.Tensor]]:
        """``labels`` (B,): a training batch's classes, -1 where unknown, passed to every member; the kernel ridge
        members store them, and ``prior_correction`` counts them; a decoder without either ignores them."""
        if self.group_sizes:
            groups = torch.split(hs, self.group_sizes, dim=-1)
            outs = [m(groups[k], hs_lengths, labels) for m, k in zip(self.members, self.member_groups)]
            logits = vad = None
            if outs[0]["logits"] is not None:
                logits = fuse([o["logits"] for o in outs], self.fusion)
            if outs[0]["vad"] is not None:
                vad = torch.stack([o["vad"] for o in outs]).mean(0)
            return {"logits": self._corrected(logits, labels), "vad": vad, "members": outs}
        emb = {b: getattr(self, f"branch_{b}")(hs, hs_lengths) for b in self.branches}
        joined = lambda names: emb[names[0]] if len(names) == 1 else torch.cat([emb[b] for b in names], dim=-1)  # noqa: E731
        return {"logits": self._corrected(self.class_head(joined(self.class_from)), labels) if self.class_from else None,
                "vad": self.vad_head(joined(self.vad_from)) if self.vad_from else None}

    def _corrected(self, logits: Optional[torch.Tensor], labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """With ``prior_correction``: count a training batch's known ``labels``; in eval mode, the logits divided by
        the counted classes' frequencies (:func:`prior_corrected`). Otherwise the logits as they are."""
        if not self.prior_correction or logits is None:
            return logits
        if self.training:
            if labels is not None:
                known = labels[labels >= 0].long()
                self.class_counts += torch.bincount(known, minlength=len(self.class_counts))[: len(self.class_counts)].to(self.class_counts.dtype)
            return logits
        return prior_corrected(logits, self.class_counts)
