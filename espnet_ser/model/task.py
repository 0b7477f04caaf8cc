"""SERTask: the speech emotion recognition task for ESPnet's trainer.

Data names: ``speech`` (required; waveform, or cached features with ``--input_size``), ``emotion``
(optional; ``utt_id class_name``, ``nan`` where missing) and ``vad`` (optional; ``utt_id v a d`` on a
0-1 scale, ``nan`` where missing). Pluggable slots, each a ``ClassChoices`` registry:
frontend, specaug, normalize, encoder, pooling, decoder.
"""

import argparse
import inspect
import logging
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from espnet2.asr.encoder.abs_encoder import AbsEncoder
from espnet2.asr.encoder.conformer_encoder import ConformerEncoder
from espnet2.asr.encoder.linear_encoder import LinearEncoder
from espnet2.asr.encoder.transformer_encoder import TransformerEncoder
from espnet2.asr.specaug.abs_specaug import AbsSpecAug
from espnet2.asr.specaug.specaug import SpecAug
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.layers.global_mvn import GlobalMVN
from espnet2.layers.utterance_mvn import UtteranceMVN
from espnet2.tasks.abs_task import AbsTask, optim_classes
from espnet2.torch_utils.initialize import initialize
from espnet2.train.class_choices import ClassChoices
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.utils.get_default_kwargs import get_default_kwargs
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str2bool, str_or_none

from espnet_ser import DEFAULT_CLASSES
from espnet_ser.errors import InputError
from espnet_ser.model.decoder import DEFAULT_VARIANT, VARIANTS
from espnet_ser.model.decoder.abs_decoder import AbsSERDecoder
from espnet_ser.model.espnet_model import ESPnetSERModel
from espnet_ser.model.frontend import frontend_choices
from espnet_ser.model.pooling import pooling_choices
from espnet_ser.class_list import load_class_list
from espnet_ser.model.trainer import AtomicCheckpointTrainer
from espnet_ser.model.preprocessor import SERPreprocessor
from espnet_ser.model.speaker_mvn import SpeakerMVN
from espnet_ser.labels import CORPUS_FILE, LABEL_FILES, SPEAKER_MVN, read_table

specaug_choices = ClassChoices(
    name="specaug", classes=dict(specaug=SpecAug), type_check=AbsSpecAug, default=None, optional=True
)
normalize_choices = ClassChoices(
    "normalize",
    classes=dict(global_mvn=GlobalMVN, utterance_mvn=UtteranceMVN, speaker_mvn=SpeakerMVN),
    type_check=AbsNormalize,
    default="utterance_mvn",
    optional=True,
)
encoder_choices = ClassChoices(
    "encoder",
    classes=dict(conformer=ConformerEncoder, transformer=TransformerEncoder, linear=LinearEncoder),
    type_check=AbsEncoder,
    default="conformer",
)
decoder_choices = ClassChoices(  # the paper's variants (espnet_ser.model.decoder.VARIANTS)
    "decoder",
    classes={name: v.load() for name, v in VARIANTS.items()},
    type_check=AbsSERDecoder,
    default=DEFAULT_VARIANT,
)


def upstream_param_groups(model: torch.nn.Module, base_lr: float) -> List[dict]:
    """The optimizer groups of every fine-tuned upstream in ``model`` (none for a frozen one)."""
    from espnet_ser.model.frontend import finetune as ft

    groups = []
    for m in model.modules():
        spec = getattr(m, "finetune", None)
        if isinstance(spec, ft.Finetune) and spec.active and hasattr(m, "upstream"):
            groups += ft.param_groups(list(m.upstream.named_parameters()), spec, m.upstream.config.num_hidden_layers, base_lr)
    return groups


def yaml_list(value):
    """A YAML list from the command line (a config file passes the list itself)."""
    import yaml

    out = yaml.safe_load(value) if isinstance(value, str) else value
    if out is not None and not isinstance(out, list):
        raise argparse.ArgumentTypeError(f"expected a YAML list, got {value!r}")
    return out


def _slot(name: str, cls, conf, *args, **kwargs):
    """Build one slot from its ``<name>_conf``; an option the class does not take, or a conf that is not
    a mapping, is one line naming the slot (a YAML typo such as ``encoder_conf: {output_sise: 4}``)."""
    if conf is None:
        conf = {}
    if not isinstance(conf, dict):
        raise InputError(f"{name}_conf must be a mapping of options, got {type(conf).__name__} {conf!r}")
    try:
        return cls(*args, **kwargs, **conf)
    except TypeError as e:
        if "argument" not in str(e):  # not about the options: a bug, keep its traceback
            raise
        raise InputError(f"{name}_conf: {e} (the options of {cls.__name__}: see its docstring or --print_config)") from None


def trained_classes(train_data: Sequence, class_list: Sequence[str]) -> Optional[List[str]]:
    """The classes of ``class_list`` that the training emotion file (``train_data_path_and_name_and_type``'s
    ``emotion`` entry) has, in ``class_list`` order; None without a readable one (a model built for inference)."""
    path = next((p for p, name, _ in train_data if name == "emotion"), None)
    if path is None or not Path(path).is_file():
        return None
    have = {v.split()[0] for v in read_table(path).values() if v.split()}
    return [c for c in class_list if c in have]


class SERTask(AbsTask):
    num_optimizers: int = 1
    class_choices_list = [
        frontend_choices,  # --frontend, --frontend_conf
        specaug_choices,  # --specaug, --specaug_conf
        normalize_choices,  # --normalize, --normalize_conf
        encoder_choices,  # --encoder, --encoder_conf
        pooling_choices,  # --pooling, --pooling_conf (one pooling layer per decoder branch)
        decoder_choices,  # --decoder, --decoder_conf
    ]
    trainer = AtomicCheckpointTrainer  # ESPnet's Trainer; checkpoints written atomically (resumable after a kill)

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        """ESPnet's worker, then the distributed process group closed: ESPnet leaves it open, and a gloo
        process that exits with it open can abort in its teardown (``terminate called without an active
        exception``), failing a run whose training had finished."""
        super().main_worker(args)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()  # rank 0 may still be averaging the n-best models
            torch.distributed.destroy_process_group()

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        group.add_argument(
            "--class_list",
            type=str_or_none,
            default=None,
            help="The emotion classes, in output order: a file with one name a line, or a list in the YAML "
            f"config (token_list style). Default: {' '.join(DEFAULT_CLASSES)}",
        )
        group.add_argument(
            "--input_size",
            type=int_or_none,
            default=None,
            help="Feature dimension when features come from the data loader (cached frozen features); "
            "the frontend is then not built",
        )
        group.add_argument(
            "--init",
            type=lambda x: str_or_none(x.lower()),
            default=None,
            choices=["chainer", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", None],
            help="The initialization method of the trainable parameters",
        )
        group.add_argument(
            "--train_on_dev",
            type=str2bool,
            default=False,
            help="Read by the recipes (espnet_ser.recipe.plan): true trains each split on its train and dev sets "
            "together and keeps the average of the last keep_nbest_models epochs (best_model_criterion "
            "valid,epoch,max: no held-out speaker picks the epochs); the dev set is then only monitored, and "
            "no conformal calibration is made from it",
        )
        group.add_argument(
            "--model_conf",
            action=NestedDictAction,
            default=get_default_kwargs(ESPnetSERModel),
            help="ESPnetSERModel options: alpha (CCC-loss weight), beta (CE-loss weight), "
            "ce_reduction (mean|sum: CE over a batch's labelled utterances), class_targets (hard|soft), "
            "lsm_weight (label smoothing of the class targets, 0-1), vad_agreement_tau, extract_feats_in_collect_stats",
        )
        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument(
            "--use_preprocessor",
            type=str2bool,
            default=True,
            help="Map class names to indices and check V/A/D (needed whenever an emotion file is read)",
        )
        group.add_argument("--data_aug_effects", type=yaml_list, default=None,
                           help="training-time waveform augmentation (ESPnet's DataAugmentation list, e.g. "
                                "[[0.5, speed_perturb, {factor: 0.9}], [0.5, speed_perturb, {factor: 1.1}]]); raw audio only")
        group.add_argument("--data_aug_num", type=int, nargs=2, default=[1, 1], help="min and max effects per utterance")
        group.add_argument("--data_aug_prob", type=float, default=0.0, help="probability that an utterance is augmented")
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    def build_collate_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Callable[[Collection[Tuple[str, Dict[str, np.ndarray]]]], Tuple[List[str], Dict[str, torch.Tensor]]]:
        # int padding -1 equals the CE ignore index; emotion/vad are one row per utterance anyway
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)

    @classmethod
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.ndarray]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor:
            return None
        return SERPreprocessor(load_class_list(args.class_list), train=train,
                               data_aug_effects=getattr(args, "data_aug_effects", None),
                               data_aug_num=getattr(args, "data_aug_num", (1, 1)),
                               data_aug_prob=getattr(args, "data_aug_prob", 0.0),
                               fs=int((getattr(args, "frontend_conf", None) or {}).get("fs", 16000)))

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ("speech",)

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return LABEL_FILES + (SPEAKER_MVN, CORPUS_FILE)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetSERModel:
        args.class_list = load_class_list(args.class_list)
        if "trained_classes" not in (args.model_conf or {}):
            # recorded in config.yaml (dumped after this): a model never predicts a class its training data lacks
            trained = trained_classes(getattr(args, "train_data_path_and_name_and_type", None) or [], args.class_list)
            if trained is not None:
                args.model_conf = {**(args.model_conf or {}), "trained_classes": trained}
        if args.input_size is None:
            frontend = _slot("frontend", frontend_choices.get_class(args.frontend), args.frontend_conf)
            input_size = frontend.output_size()
            # Building a pretrained upstream draws random numbers (its initial weights) and a cached-feature
            # frontend draws none: reseed so that the trainable part starts the same either way.
            torch.manual_seed(getattr(args, "seed", 0) or 0)
        else:
            args.frontend, args.frontend_conf, frontend = None, {}, None
            input_size = args.input_size
        specaug = _slot("specaug", specaug_choices.get_class(args.specaug), args.specaug_conf) if args.specaug else None
        normalize = _slot("normalize", normalize_choices.get_class(args.normalize), args.normalize_conf) if args.normalize else None
        encoder = _slot("encoder", encoder_choices.get_class(args.encoder), args.encoder_conf, input_size=input_size)
        decoder = _slot("decoder", decoder_choices.get_class(args.decoder), args.decoder_conf,
                        encoder.output_size(), num_classes=len(args.class_list),
                        pooling_class=pooling_choices.get_class(args.pooling), pooling_conf=args.pooling_conf)
        model = _slot("model", ESPnetSERModel, args.model_conf, class_list=args.class_list, frontend=frontend,
                      specaug=specaug, normalize=normalize, encoder=encoder, decoder=decoder)
        if args.init is not None:
            # initialize() touches every parameter: keep the frontend's (a pretrained upstream, trainable or
            # not, and LoRA adapters that start as a no-op) and every other frozen one
            frozen = {k: p.detach().clone() for k, p in model.named_parameters()
                      if not p.requires_grad or k.startswith("frontend.")}
            initialize(model, args.init)
            with torch.no_grad():
                for k, p in model.named_parameters():
                    if k in frozen:
                        p.copy_(frozen[k])
        n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
        n_all = sum(p.numel() for p in model.parameters())
        logging.info(f"SER model: {n_train:,} trainable of {n_all:,} parameters")
        return model

    @classmethod
    def build_optimizers(cls, args: argparse.Namespace, model: torch.nn.Module) -> List[torch.optim.Optimizer]:
        """One optimizer over the trainable parameters only: frozen ones get no optimizer state. A
        fine-tuned upstream's parameters form their own groups (its learning rate, layer-wise decay:
        :func:`espnet_ser.model.frontend.finetune.param_groups`)."""
        optim_class = optim_classes.get(args.optim)
        if optim_class is None:
            raise ValueError(f"--optim must be one of {list(optim_classes)}: {args.optim}")
        base_lr = float(args.optim_conf.get("lr", inspect.signature(optim_class).parameters["lr"].default))
        groups = upstream_param_groups(model, base_lr)
        taken = {id(p) for g in groups for p in g["params"]}
        rest = [p for p in model.parameters() if p.requires_grad and id(p) not in taken]
        if groups:
            for g in groups:
                logging.info(f"optimizer group {g['name']}: {len(g['params'])} tensors at lr {g['lr']:.3g}")
            return [optim_class([{"params": rest, "name": "model"}, *groups], **args.optim_conf)]
        return [optim_class(rest, **args.optim_conf)]
