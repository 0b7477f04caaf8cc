"""Baseline D: discrete classes only (one branch, E_D -> class logits)."""

from espnet_ser.model.decoder.branch import BranchedDecoder


class BaselineDDecoder(BranchedDecoder):
    def __init__(self, encoder_output_size: int, num_classes: int, **kwargs):
        super().__init__(encoder_output_size, num_classes, **kwargs)
        self.branch_d = self.make_branch()
        self.class_head = self.make_class_head(self.branch_d.output_size())

    def forward(self, hs, hs_lengths):
        return {"logits": self.class_head(self.branch_d(hs, hs_lengths)), "vad": None}
