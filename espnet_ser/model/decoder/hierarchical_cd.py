"""Hierarchical C-D: the class head sees concat[E_C, E_D]; the continuous head sees E_C."""

import torch

from espnet_ser.model.decoder.branch import BranchedDecoder


class HierarchicalCDDecoder(BranchedDecoder):
    def __init__(self, encoder_output_size: int, num_classes: int, **kwargs):
        super().__init__(encoder_output_size, num_classes, **kwargs)
        self.branch_d = self.make_branch()
        self.branch_c = self.make_branch()
        self.class_head = self.make_class_head(self.branch_c.output_size() + self.branch_d.output_size())
        self.vad_head = self.make_vad_head(self.branch_c.output_size())

    def forward(self, hs, hs_lengths):
        e_d, e_c = self.branch_d(hs, hs_lengths), self.branch_c(hs, hs_lengths)
        return {"logits": self.class_head(torch.cat([e_c, e_d], dim=-1)), "vad": self.vad_head(e_c)}
