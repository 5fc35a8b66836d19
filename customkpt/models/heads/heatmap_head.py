"""Heatmap head: one 1x1 convolution from backbone features to K heatmaps."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.structures import InstanceData

from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample


def flip_heatmaps(heatmaps: torch.Tensor, flip_indices: Sequence[int],
                  shift: bool = True) -> torch.Tensor:
    """Undo a horizontal input flip on (B, K, H, W) heatmaps: mirror them,
    put each channel back in its partner's slot, and optionally move them one
    pixel right (the mirrored pixel grid is off by one)."""
    out = heatmaps.flip(-1)[:, list(flip_indices)]
    if shift:
        out = torch.cat([out[..., :1], out[..., :-1]], dim=-1)
    return out


def heatmap_accuracy(pred: np.ndarray, target: np.ndarray, weights: np.ndarray,
                     thr: float = 0.05) -> float:
    """Share of weighted keypoints whose predicted peak lies within ``thr``
    of the heatmap diagonal from the target peak ((B, K, H, W) maps)."""
    b, k, h, w = pred.shape
    p = pred.reshape(b, k, -1).argmax(-1)
    t = target.reshape(b, k, -1).argmax(-1)
    dist = np.hypot(p % w - t % w, p // w - t // w) / np.hypot(h, w)
    mask = weights > 0
    return float((dist[mask] < thr).mean()) if mask.any() else 0.0


@MODELS.register_module()
class HeatmapHead(BaseModule):
    """Predict K heatmaps from the highest-resolution backbone feature.

    Args:
        in_channels: channels of the backbone output.
        out_channels: K, the number of keypoints.
        loss: loss config (KeypointMSELoss by default).
        decoder: codec config used to turn heatmaps into keypoints.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 loss: dict | None = None, decoder: dict | None = None,
                 init_cfg: dict | list | None = None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Normal', layer='Conv2d', std=0.001, bias=0)]
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.final_layer = nn.Conv2d(in_channels, out_channels, 1)
        self.loss_module = MODELS.build(loss or dict(type='KeypointMSELoss'))
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.final_layer(feats[-1])

    def loss(self, feats: Sequence[torch.Tensor], data_samples: list[PoseDataSample]) -> dict:
        pred = self.forward(feats)
        target = torch.stack([s.gt_fields.heatmaps for s in data_samples]).to(pred)
        weights = torch.cat([s.gt_instance_labels.keypoint_weights
                             for s in data_samples]).to(pred)
        acc = heatmap_accuracy(pred.detach().cpu().numpy(), target.cpu().numpy(),
                               weights.cpu().numpy())
        return dict(loss_kpt=self.loss_module(pred, target, weights),
                    acc_pose=torch.tensor(acc, device=pred.device))

    def predict(self, heatmaps: torch.Tensor) -> list[InstanceData]:
        """Decode (B, K, H, W) heatmaps into keypoints in crop pixels."""
        if self.decoder is None:
            raise RuntimeError('HeatmapHead needs a decoder (codec config) to predict')
        kpts, scores = self.decoder.batch_decode(heatmaps.detach().float().cpu().numpy())
        return [InstanceData(keypoints=kpts[i:i + 1], keypoint_scores=scores[i:i + 1])
                for i in range(len(kpts))]
