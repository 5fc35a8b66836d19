"""Top-down estimator: crop in, heatmaps and keypoints in image pixels out."""
from __future__ import annotations

import numpy as np
import torch
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from customkpt.registry import MODELS
from customkpt.structures import PoseDataSample

from .heads.heatmap_head import flip_heatmaps


def crop_to_image(keypoints: np.ndarray, input_size, input_center, input_scale,
                  udp: bool = False) -> np.ndarray:
    """Map (..., 2) keypoints from crop pixels back to image pixels.

    Plain crops map ``input_size`` pixels onto the box; UDP crops map
    ``input_size - 1`` pixel steps onto it.
    """
    size = np.asarray(input_size, np.float32) - (1.0 if udp else 0.0)
    scale = np.asarray(input_scale, np.float32)
    return keypoints / size * scale + np.asarray(input_center, np.float32) - scale / 2


@MODELS.register_module()
class TopdownEstimator(BaseModel):
    """Backbone -> heatmap head, with flip test at inference.

    Args:
        backbone: backbone config (e.g. HRNet).
        head: head config (e.g. HeatmapHead with a decoder codec).
        data_preprocessor: e.g. PoseDataPreprocessor.
        test_cfg: ``flip_test`` (average with the mirrored input's heatmaps,
            channels swapped by the samples' ``flip_indices``),
            ``shift_heatmap`` (shift the mirrored heatmaps one pixel) and
            ``output_heatmaps`` (keep heatmaps in ``pred_fields``).
        metainfo: the keypoint definition (``KeypointMeta.to_dict()``), kept
            for checkpoints and inference.
    """

    def __init__(self, backbone: dict, head: dict, data_preprocessor: dict | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | list | None = None, metainfo: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(flip_test=True, shift_heatmap=True)
        self.test_cfg.update(test_cfg or {})
        self.dataset_meta = metainfo

    def forward(self, inputs: torch.Tensor, data_samples: list[PoseDataSample] | None = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.head.loss(self.backbone(inputs), data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.backbone(inputs))
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def _heatmaps(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]
                  ) -> torch.Tensor:
        heatmaps = self.head(self.backbone(inputs))
        if self.test_cfg.get('flip_test', False):
            flip_indices = data_samples[0].metainfo.get('flip_indices')
            if flip_indices is None and self.dataset_meta:
                flip_indices = self.dataset_meta['flip_indices']
            if flip_indices is None:
                raise KeyError('flip test needs flip_indices in the samples or the metainfo')
            mirrored = self.head(self.backbone(inputs.flip(-1)))
            heatmaps = 0.5 * (heatmaps + flip_heatmaps(
                mirrored, flip_indices, self.test_cfg.get('shift_heatmap', True)))
        return heatmaps

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]
                ) -> list[PoseDataSample]:
        heatmaps = self._heatmaps(inputs, data_samples)
        preds = self.head.predict(heatmaps)
        udp = type(self.head.decoder).__name__ == 'UDPHeatmap'
        for i, (sample, pred) in enumerate(zip(data_samples, preds)):
            meta = sample.metainfo
            pred.keypoints = crop_to_image(pred.keypoints, meta['input_size'],
                                           meta['input_center'], meta['input_scale'], udp)
            gt = sample.gt_instances if 'gt_instances' in sample else None
            if gt is not None and 'bboxes' in gt:
                pred.bboxes = gt.bboxes
                pred.bbox_scores = gt.bbox_scores if 'bbox_scores' in gt else np.ones(1)
            sample.pred_instances = pred
            if self.test_cfg.get('output_heatmaps', False):
                sample.pred_fields = PixelData(heatmaps=heatmaps[i].cpu())
        return data_samples
