"""The paper's five model variants: their registry, the one list of them.

A variant is a decoder (``--decoder NAME``) wired from task embeddings to heads: E_D (the discrete
branch) and E_C (the continuous branch), each pooling over the encoder output and an MLP
(:class:`espnet_ser.model.decoder.branch.EmbeddingBranch`). ``VARIANTS`` gives each name its title in
the paper's tables and the embeddings its class head and its V/A/D head read (``"d"``, ``"c"``,
concatenated in that order; none: no such head). Reading the list imports neither torch nor ESPnet:
the recipe spec, the report and the shell read it through ``espnet_ser.spec``; :meth:`Variant.load`
builds the decoder class.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Tuple


@dataclass(frozen=True)
class Variant:
    name: str                       # --decoder NAME
    title: str                      # as the paper's tables print it
    class_from: Tuple[str, ...]     # embeddings of the class head
    vad_from: Tuple[str, ...]       # embeddings of the V/A/D head

    @property
    def outputs(self) -> Tuple[str, ...]:
        """The label types it predicts: "emotion" (classes) and/or "vad"."""
        return tuple(t for t, used in (("emotion", self.class_from), ("vad", self.vad_from)) if used)

    def load(self) -> type:
        return _decoder_class(self)


@lru_cache(maxsize=None)
def _decoder_class(v: Variant) -> type:
    from espnet_ser.model.decoder.branch import BranchedDecoder

    name = "".join(w.capitalize() for w in v.name.split("_")) + "Decoder"
    doc = f"{v.title}: class head from {'+'.join(v.class_from) or 'none'}, V/A/D head from {'+'.join(v.vad_from) or 'none'}."
    return type(name, (BranchedDecoder,), {"class_from": v.class_from, "vad_from": v.vad_from, "__doc__": doc,
                                           "__module__": __name__})


VARIANTS: Dict[str, Variant] = {v.name: v for v in (
    Variant("baseline_c", "Baseline C", (), ("c",)),                        # V/A/D only
    Variant("baseline_d", "Baseline D", ("d",), ()),                        # classes only
    Variant("multitask", "Multi-task C,D", ("d",), ("c",)),                 # two branches, shared encoder
    Variant("hierarchical_dc", "Hierarchical D-C", ("d",), ("d", "c")),     # V/A/D head sees [E_D, E_C]
    Variant("hierarchical_cd", "Hierarchical C-D", ("c", "d"), ("c",)),     # class head sees [E_C, E_D]
)}
#: the paper's proposed model: ``--decoder``'s default and the model of Table 2's rows
DEFAULT_VARIANT = "hierarchical_dc"
