"""Top-down estimator: crop in, heatmaps and keypoints in image pixels out."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from customkpt.registry import MODELS
from customkpt.structures import PoseDataSample

__all__ = ['TopdownEstimator', 'crop_to_image']


def crop_to_image(keypoints: np.ndarray, input_size: Sequence[float],
                  input_center: Sequence[float], input_scale: Sequence[float],
                  udp: bool = False) -> np.ndarray:
    """Map (..., 2) keypoints from crop pixels back to image pixels.

    ``image = crop / input_size * input_scale + input_center - input_scale / 2``.
    UDP crops map ``input_size - 1`` pixel steps onto the box instead.

    Args:
        keypoints: (..., 2) (x, y) in crop pixels.
        input_size: crop (w, h).
        input_center, input_scale: the cropped box's centre and (w, h) in
            image pixels.
        udp: the crop used the UDP (pixel-centre) convention.
    """
    size = np.asarray(input_size, np.float32) - (1.0 if udp else 0.0)
    scale = np.asarray(input_scale, np.float32).reshape(-1)[:2]
    center = np.asarray(input_center, np.float32).reshape(-1)[:2]
    out = np.asarray(keypoints, np.float32) / size * scale + center - scale / 2
    return out.astype(np.float32)


def _to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


@MODELS.register_module()
class TopdownEstimator(BaseModel):
    """Backbone (-> neck) -> heatmap head, with flip test at inference.

    Args:
        backbone: backbone config (e.g. HRNet).
        head: head config (e.g. HeatmapHead with a decoder codec).
        neck: optional neck config between backbone and head.
        data_preprocessor: config or module; PoseDataPreprocessor (ImageNet
            mean/std, BGR->RGB) by default.
        train_cfg: passed to the head's loss.
        test_cfg: ``flip_test`` (default True: average with the heatmaps of
            the mirrored input, channels swapped by the samples'
            ``flip_indices``), ``flip_mode`` ('heatmap'), ``shift_heatmap``
            (default True: shift the mirrored heatmaps one pixel right),
            ``output_heatmaps`` (keep heatmaps in ``pred_fields``) and
            ``use_udp`` (crop convention for mapping back; by default True
            exactly when the head decodes with ``UDPHeatmap``).
        init_cfg: mmengine init config.
        metainfo: the keypoint definition (``KeypointMeta.to_dict()``), kept
            as ``dataset_meta`` for checkpoints and inference; its
            ``flip_indices`` back up samples that carry none, and its
            ``keypoint_names`` name the head channels for ``pretrained``.
        pretrained: ``dict(checkpoint=path_or_url, keypoint_map=None,
            prefix=None)``: weights copied in :meth:`init_weights`, after
            the normal init, by
            :func:`customkpt.models.pretrained.load_pretrained` (head
            channels matched by keypoint name).
    """

    def __init__(self, backbone: dict, head: dict, neck: dict | None = None,
                 data_preprocessor: dict | nn.Module | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | list | None = None, metainfo: dict | None = None,
                 pretrained: dict | None = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='PoseDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # Build from customkpt's registry whatever the current default scope.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)
        self.test_cfg.update(test_cfg or {})
        self.dataset_meta = dict(metainfo) if metainfo is not None else None
        if pretrained is not None and not isinstance(pretrained, dict):
            raise TypeError('pretrained must be dict(checkpoint=..., keypoint_map=...), got '
                            f'{type(pretrained).__name__}')
        self.pretrained = dict(pretrained) if pretrained else None
        self.transfer_report = None

    def init_weights(self) -> None:
        """The modules' own init, then the ``pretrained`` weights if set."""
        super().init_weights()
        if self.pretrained and self.pretrained.get('checkpoint'):
            from customkpt.models.pretrained import load_pretrained
            self.transfer_report = load_pretrained(self, **self.pretrained)

    def extract_feat(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        """Backbone (and neck) features of (B, 3, h, w) normalised crops."""
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return feats

    def forward(self, inputs: torch.Tensor,
                data_samples: list[PoseDataSample] | None = None, mode: str = 'tensor'):
        """``mode``: 'tensor' -> (B, K, H, W) heatmaps; 'loss' -> dict of
        losses; 'predict' -> data samples with ``pred_instances``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]) -> dict:
        """Head losses (``loss_kpt``) and training accuracy (``acc_pose``)."""
        return self.head.loss(self.extract_feat(inputs), data_samples, train_cfg=self.train_cfg)

    def _test_cfg(self) -> dict:
        cfg = dict(self.test_cfg)
        if 'flip_indices' not in cfg and self.dataset_meta:
            if self.dataset_meta.get('flip_indices') is not None:
                cfg['flip_indices'] = self.dataset_meta['flip_indices']
        return cfg

    def predict_heatmaps(self, inputs: torch.Tensor,
                         data_samples: list[PoseDataSample] | None = None) -> torch.Tensor:
        """(B, K, H, W) heatmaps, flip-test averaged when ``test_cfg`` asks."""
        cfg = self._test_cfg()
        feats = self.extract_feat(inputs)
        if cfg.get('flip_test', False):
            feats = (feats, self.extract_feat(inputs.flip(-1)))
        return self.head.predict_heatmaps(feats, data_samples, cfg)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]
                ) -> list[PoseDataSample]:
        """Fill each sample's ``pred_instances`` (numpy): ``keypoints``
        (1, K, 2) in image pixels, ``keypoint_scores`` (1, K), ``bboxes``
        (1, 4) and ``bbox_scores`` (1,) from ``gt_instances``; with
        ``output_heatmaps`` also ``pred_fields.heatmaps`` (K, H, W)."""
        if data_samples is None or len(data_samples) != inputs.shape[0]:
            raise ValueError('predict needs one data sample (with input_size, input_center, '
                             'input_scale in its metainfo) per input')
        heatmaps = self.predict_heatmaps(inputs, data_samples)
        preds = self.head.decode(heatmaps)
        udp = self.test_cfg.get('use_udp')
        if udp is None:
            udp = type(getattr(self.head, 'decoder', None)).__name__ == 'UDPHeatmap'
        for i, (sample, pred) in enumerate(zip(data_samples, preds)):
            meta = sample.metainfo
            missing = [k for k in ('input_size', 'input_center', 'input_scale') if k not in meta]
            if missing:
                raise KeyError(f'data sample metainfo lacks {missing}, needed to map '
                               'keypoints back to image pixels')
            pred.keypoints = crop_to_image(pred.keypoints, meta['input_size'],
                                           meta['input_center'], meta['input_scale'], udp)
            gt = sample.gt_instances if 'gt_instances' in sample else None
            if gt is not None and 'bboxes' in gt:
                bboxes = _to_numpy(gt.bboxes).astype(np.float32).reshape(-1, 4)
                pred.bboxes = bboxes
                pred.bbox_scores = (_to_numpy(gt.bbox_scores).astype(np.float32).reshape(-1)
                                    if 'bbox_scores' in gt
                                    else np.ones(len(bboxes), np.float32))
            sample.pred_instances = pred
            if self.test_cfg.get('output_heatmaps', False):
                sample.pred_fields = PixelData(heatmaps=heatmaps[i].detach().cpu())
        return data_samples
