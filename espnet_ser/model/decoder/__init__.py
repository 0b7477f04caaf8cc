"""The paper's five model variants, one decoder file each, and their registry: the one list of them.

A variant is a decoder (``--decoder NAME``). ``VARIANTS`` gives each name its title in the paper's
tables, the label types it predicts and its class, imported on demand: reading the list imports neither
torch nor ESPnet (the recipe spec, the report and the shell read it through ``espnet_ser.spec``).
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Dict, Tuple


@dataclass(frozen=True)
class Variant:
    name: str                  # the decoder's name and its module (``espnet_ser.model.decoder.<name>``)
    title: str                 # as the paper's tables print it
    outputs: Tuple[str, ...]   # the label types it predicts: "emotion" (classes) and/or "vad"
    cls: str                   # the decoder class in its module

    def load(self) -> type:
        return getattr(import_module(f"{__name__}.{self.name}"), self.cls)


VARIANTS: Dict[str, Variant] = {v.name: v for v in (
    Variant("baseline_c", "Baseline C", ("vad",), "BaselineCDecoder"),
    Variant("baseline_d", "Baseline D", ("emotion",), "BaselineDDecoder"),
    Variant("multitask", "Multi-task C,D", ("emotion", "vad"), "MultitaskDecoder"),
    Variant("hierarchical_dc", "Hierarchical D-C", ("emotion", "vad"), "HierarchicalDCDecoder"),
    Variant("hierarchical_cd", "Hierarchical C-D", ("emotion", "vad"), "HierarchicalCDDecoder"),
)}
#: the paper's proposed model: ``--decoder``'s default and the model of Table 2's rows
DEFAULT_VARIANT = "hierarchical_dc"
