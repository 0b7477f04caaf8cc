"""Baseline C: continuous V/A/D only (one branch, E_C -> V/A/D)."""

from espnet_ser.model.decoder.branch import BranchedDecoder


class BaselineCDecoder(BranchedDecoder):
    def __init__(self, encoder_output_size: int, num_classes: int, **kwargs):
        super().__init__(encoder_output_size, num_classes, **kwargs)
        self.branch_c = self.make_branch()
        self.vad_head = self.make_vad_head(self.branch_c.output_size())

    def forward(self, hs, hs_lengths):
        return {"logits": None, "vad": self.vad_head(self.branch_c(hs, hs_lengths))}
