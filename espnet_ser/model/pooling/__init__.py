"""Pooling over frames (one layer per decoder branch) and its registry (``--pooling``)."""

from espnet2.train.class_choices import ClassChoices

from espnet_ser.model.pooling.abs_pooling import AbsPooling
from espnet_ser.model.pooling.mean import MeanPooling
from espnet_ser.model.pooling.self_attentive import SelfAttentivePooling
from espnet_ser.model.pooling.stats import StatsPooling

pooling_choices = ClassChoices(
    "pooling",
    classes=dict(self_attentive=SelfAttentivePooling, mean=MeanPooling, stats=StatsPooling),
    type_check=AbsPooling,
    default="self_attentive",
)
