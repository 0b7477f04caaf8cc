"""Hierarchical D-C: the continuous head sees concat[E_D, E_C]; the class head sees E_D."""

import torch

from espnet_ser.model.decoder.branch import BranchedDecoder


class HierarchicalDCDecoder(BranchedDecoder):
    def __init__(self, encoder_output_size: int, num_classes: int, **kwargs):
        super().__init__(encoder_output_size, num_classes, **kwargs)
        self.branch_d = self.make_branch()
        self.branch_c = self.make_branch()
        self.class_head = self.make_class_head(self.branch_d.output_size())
        self.vad_head = self.make_vad_head(self.branch_d.output_size() + self.branch_c.output_size())

    def forward(self, hs, hs_lengths):
        e_d, e_c = self.branch_d(hs, hs_lengths), self.branch_c(hs, hs_lengths)
        return {"logits": self.class_head(e_d), "vad": self.vad_head(torch.cat([e_d, e_c], dim=-1))}
