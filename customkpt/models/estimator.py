"""Top-down estimator: crop in, head outputs (heatmaps or SimCC vectors) and
keypoints in image pixels out."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData

from customkpt.core.arrays import to_numpy
from customkpt.core.geometry import crop_to_image
from customkpt.meta import KeypointMeta
from customkpt.registry import MODELS, SCOPE
from customkpt.structures import PoseDataSample

from .semi_supervised import UnlabelledLosses

__all__ = ['TopdownEstimator']


# test_cfg keys owned elsewhere: where to set them instead.
_FOREIGN_TEST_CFG_KEYS = {
    'use_udp': 'the crop convention belongs to the head\'s decoder codec (head.decoder='
               "dict(type='UDPHeatmap', ...) implies use_udp=True, MSRAHeatmap False); set "
               "the pipeline's TopdownAffine(use_udp=...) to match it",
    'flip_indices': 'the flip table belongs to the keypoint definition: give the model '
                    'metainfo=... (flip_pairs) or let the dataset provide it',
}


def _build_test_cfg(test_cfg: dict | None, decoder) -> dict:
    """Defaults plus ``test_cfg``; keys owned by the codec or the keypoint
    definition are refused with where to set them."""
    cfg = dict(flip_test=True, flip_mode='heatmap', shift_heatmap=True)
    cfg.update(test_cfg or {})
    for key, owner in _FOREIGN_TEST_CFG_KEYS.items():
        if key in cfg:
            detail = ''
            if key == 'use_udp' and decoder is not None:
                detail = (f' (here head.decoder {type(decoder).__name__} implies '
                          f'use_udp={bool(decoder.use_udp)})')
            raise ValueError(f'test_cfg.{key}={cfg[key]!r} is not a model setting: '
                             f'{owner}{detail}. Remove test_cfg.{key}.')
    return cfg


@MODELS.register_module()
class TopdownEstimator(BaseModel):
    """Backbone (-> neck) -> head, with flip test at inference.

    The head is a :class:`~customkpt.models.heads.HeatmapHead` (outputs
    (B, K, H, W) heatmaps) or a :class:`~customkpt.models.heads.RTMCCHead`
    (outputs ``(simcc_x (B, K, Wx), simcc_y (B, K, Wy))``). A head provides
    ``forward(feats)``, ``loss(feats, data_samples, train_cfg)``,
    ``predict_outputs(feats, flip_indices, test_cfg)`` (flip-test averaged
    outputs), ``decode(outputs)`` (per sample ``keypoints`` (1, K, 2) in crop
    pixels and ``keypoint_scores`` (1, K)) and a ``decoder`` codec whose
    ``use_udp`` is the crop convention.

    Args:
        backbone: backbone config (e.g. HRNet, CSPNeXt).
        head: head config (HeatmapHead or RTMCCHead with a decoder codec).
        neck: optional neck config between backbone and head.
        data_preprocessor: config or module; PoseDataPreprocessor (ImageNet
            mean/std, BGR->RGB) by default.
        train_cfg: passed to the head's loss.
        test_cfg: ``flip_test`` (default True: average with the outputs of
            the mirrored input, flipped back with channels swapped by the
            model's ``dataset_meta['flip_indices']``), ``flip_mode``
            ('heatmap') and ``shift_heatmap`` (default True: shift the
            mirrored heatmaps one pixel right) for heatmap heads, and
            ``output_heatmaps`` (keep the head outputs: heatmaps in
            ``pred_fields``, SimCC vectors in ``pred_instance_labels``).
            The crop convention used to map keypoints back to the image is
            the decoder codec's ``use_udp``; ``use_udp`` and
            ``flip_indices`` here are refused (ValueError).
        init_cfg: mmengine init config.
        metainfo: the keypoint definition (a ``KeypointMeta`` config dict, a
            ``to_dict()`` output or a metainfo file path), resolved by
            :meth:`KeypointMeta.resolve` and kept as ``dataset_meta`` (so it
            always carries ``flip_indices``) for checkpoints, flip test and
            inference; its ``keypoint_names`` name the head channels for
            ``pretrained``. Without it, ``ModelMetaHook`` copies the
            dataset's definition before training or testing, and
            ``init_model`` the checkpoint's.
        pretrained: ``dict(checkpoint=path_or_url, keypoint_map=None,
            prefix=None)``: weights copied in :meth:`init_weights`, after
            the normal init, by
            :func:`customkpt.models.pretrained.load_pretrained` (head
            channels matched by keypoint name).
        semi_supervised: ``dict(losses=dict(name=loss_cfg, ...), beta=None,
            window=None)``: train also on unlabelled video frames in the
            batch (:class:`~customkpt.models.semi_supervised.UnlabelledLosses`,
            docs/semi_supervised.md); ``None``: labelled training only.
    """

    def __init__(self, backbone: dict, head: dict, neck: dict | None = None,
                 data_preprocessor: dict | nn.Module | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None,
                 init_cfg: dict | list | None = None, metainfo: dict | None = None,
                 pretrained: dict | None = None, semi_supervised: dict | None = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='PoseDataPreprocessor')
        # Bare type names of the parts are customkpt's whatever the current
        # default scope (a config of another mmengine project).
        with DefaultScope.overwrite_default_scope(SCOPE):
            if isinstance(data_preprocessor, dict):
                data_preprocessor = MODELS.build(data_preprocessor)
            super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
            self.backbone = MODELS.build(backbone)
            self.neck = MODELS.build(neck) if neck is not None else None
            self.head = MODELS.build(head)
            self.unlabelled = (UnlabelledLosses(**semi_supervised)
                               if semi_supervised is not None else None)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = _build_test_cfg(test_cfg, getattr(self.head, 'decoder', None))
        self.dataset_meta = (KeypointMeta.resolve(metainfo).to_dict()
                             if metainfo is not None else None)
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
        """``mode``: 'tensor' -> the head outputs ((B, K, H, W) heatmaps or
        ``(simcc_x, simcc_y)``); 'loss' -> dict of losses; 'predict' -> data
        samples with ``pred_instances``."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]) -> dict:
        """Head losses (``loss_kpt``) and training accuracy (``acc_pose``);
        with ``semi_supervised`` also the unsupervised losses of the batch's
        unlabelled frames."""
        if self.unlabelled is not None:
            return self.unlabelled.loss(self, inputs, data_samples)
        return self.head.loss(self.extract_feat(inputs), data_samples, train_cfg=self.train_cfg)

    def flip_indices(self, data_samples: Sequence[PoseDataSample] | None = None
                     ) -> list[int]:
        """The flip table of the model's keypoint definition.

        Samples may carry their own ``flip_indices`` (the datasets copy it);
        it is only checked against the model's.

        Raises:
            KeyError: the model has no keypoint definition with a flip table.
            ValueError: a sample's table differs from the model's.
        """
        table = (self.dataset_meta or {}).get('flip_indices')
        if table is None:
            raise KeyError("flip test needs model.dataset_meta['flip_indices']: build the "
                           'model with metainfo=..., run it under a Runner with ModelMetaHook '
                           "(it copies the dataset's definition) or load it with init_model")
        table = [int(i) for i in table]
        for sample in data_samples or []:
            own = sample.metainfo.get('flip_indices')
            if own is not None and [int(i) for i in own] != table:
                raise ValueError(f'data sample flip_indices {list(own)} differ from the '
                                 f"model's dataset_meta flip_indices {table}: the data and "
                                 'the model use different keypoint definitions')
        return table

    def predict_outputs(self, inputs: torch.Tensor,
                        data_samples: list[PoseDataSample] | None = None):
        """The head outputs ((B, K, H, W) heatmaps or ``(simcc_x, simcc_y)``),
        flip-test averaged when ``test_cfg`` asks (with the table of
        :meth:`flip_indices`)."""
        feats = self.extract_feat(inputs)
        if not self.test_cfg.get('flip_test', False):
            return self.head.predict_outputs(feats, None, self.test_cfg)
        table = self.flip_indices(data_samples)
        feats = (feats, self.extract_feat(inputs.flip(-1)))
        return self.head.predict_outputs(feats, table, self.test_cfg)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: list[PoseDataSample]
                ) -> list[PoseDataSample]:
        """Fill each sample's ``pred_instances`` (numpy): ``keypoints``
        (1, K, 2) in image pixels, ``keypoint_scores`` (1, K), ``bboxes``
        (1, 4) and ``bbox_scores`` (1,) from ``gt_instances``; with
        ``output_heatmaps`` also the head outputs: ``pred_fields.heatmaps``
        (K, H, W), or ``pred_instance_labels.keypoint_x_labels`` (1, K, Wx)
        and ``keypoint_y_labels`` (1, K, Wy) for SimCC."""
        if data_samples is None or len(data_samples) != inputs.shape[0]:
            raise ValueError('predict needs one data sample (with input_size, input_center, '
                             'input_scale in its metainfo) per input')
        outputs = self.predict_outputs(inputs, data_samples)
        preds = self.head.decode(outputs)
        udp = bool(self.head.decoder.use_udp)
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
                bboxes = to_numpy(gt.bboxes).astype(np.float32).reshape(-1, 4)
                pred.bboxes = bboxes
                pred.bbox_scores = (to_numpy(gt.bbox_scores).astype(np.float32).reshape(-1)
                                    if 'bbox_scores' in gt
                                    else np.ones(len(bboxes), np.float32))
            sample.pred_instances = pred
            if self.test_cfg.get('output_heatmaps', False):
                _keep_outputs(sample, outputs, i)
        return data_samples


def _keep_outputs(sample: PoseDataSample, outputs, i: int) -> None:
    """Store sample ``i``'s head outputs: heatmaps in ``pred_fields``, SimCC
    vectors in ``pred_instance_labels``."""
    if isinstance(outputs, torch.Tensor):
        sample.pred_fields = PixelData(heatmaps=outputs[i].detach().cpu())
        return
    simcc_x, simcc_y = outputs
    sample.pred_instance_labels = InstanceData(
        keypoint_x_labels=simcc_x[i:i + 1].detach().cpu(),
        keypoint_y_labels=simcc_y[i:i + 1].detach().cpu())
