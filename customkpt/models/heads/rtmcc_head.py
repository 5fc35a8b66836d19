"""RTMCC head: backbone features -> one x and one y SimCC vector per keypoint.

``final_layer`` (a k x k conv, in_channels -> K) makes one feature map per
keypoint; each map is flattened (H*W) and embedded by ``mlp`` (ScaleNorm +
Linear(H*W -> hidden), no bias); one gated attention unit ``gau`` mixes the
K tokens; ``cls_x`` and ``cls_y`` (Linear, no bias) classify the x and y
bins: Wx = round(w * split), Wy = round(h * split) for an input (w, h).

Only ``final_layer`` depends on K; its state-dict keys
``final_layer.weight`` (K, C, k, k) and ``final_layer.bias`` (K,) are the
per-keypoint channels that pretrained transfer matches by name.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from customkpt.core.flip import flip_vectors
from customkpt.core.peaks import get_vector_maximum
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

from ..layers import GatedAttentionUnit, ScaleNorm
from .base import TopdownHead

__all__ = ['RTMCCHead', 'simcc_accuracy']

_GAU_DEFAULTS = dict(hidden_dims=256, s=128, expansion_factor=2, dropout_rate=0.0,
                     drop_path=0.0, act_fn='SiLU', use_rel_bias=False, pos_enc=False)


def simcc_accuracy(pred: Sequence[np.ndarray], target: Sequence[np.ndarray],
                   weights: np.ndarray | None = None, thr: float = 0.05) -> float:
    """PCK of the SimCC argmax, for training logs.

    A keypoint counts as correct when its predicted argmax lies within
    ``thr`` of the target argmax, x normalised by the crop width and y by
    its height (the vector lengths, as bins per pixel cancel). Only
    keypoints with a positive weight count.

    Args:
        pred, target: ``(x (B, K, Wx), y (B, K, Wy))`` pairs.
        weights: (B, K) weights, or None for all.
        thr: distance threshold.

    Returns:
        The share of correct keypoints, 0.0 when none count.
    """
    p, _ = get_vector_maximum(*pred)
    t, _ = get_vector_maximum(*target)
    size = np.array([pred[0].shape[-1], pred[1].shape[-1]], np.float32)
    dist = np.linalg.norm((p - t) / size, axis=-1)
    mask = np.ones(dist.shape, bool) if weights is None else np.asarray(weights) > 0
    mask = mask.reshape(dist.shape)
    return float((dist[mask] < thr).mean()) if mask.any() else 0.0


@MODELS.register_module()
class RTMCCHead(TopdownHead):
    """SimCC head with a gated attention unit (RTMPose).

    Args:
        in_channels: channels of the last backbone output.
        out_channels: K, the number of keypoints.
        input_size: network input (w, h).
        in_featuremap_size: (w, h) of the backbone output; ``input_size //
            32`` when None.
        simcc_split_ratio: bins per crop pixel.
        final_layer_kernel_size: kernel of ``final_layer`` (padding k // 2).
        gau_cfg: ``hidden_dims`` (256), ``s`` (128), ``expansion_factor``
            (2), ``dropout_rate`` (0), ``drop_path`` (0), ``act_fn``
            ('SiLU'); ``use_rel_bias`` and ``pos_enc`` must stay False.
        loss: loss config; ``KLDiscretLoss(beta=10, label_softmax=True)``
            by default.
        decoder: codec config (``SimCCLabel``) for :meth:`predict`.
        init_cfg: mmengine init config; N(0, 0.001) convs, N(0, 0.01)
            linears with zero bias, unit BatchNorm by default.

    Raises:
        ValueError: missing ``out_channels``, unknown ``gau_cfg`` keys or a
            GAU option that is not available.
    """

    def __init__(self, in_channels: int = 768, out_channels: int | None = None,
                 input_size: Sequence[int] = (192, 256),
                 in_featuremap_size: Sequence[int] | None = None,
                 simcc_split_ratio: float = 2.0, final_layer_kernel_size: int = 7,
                 gau_cfg: dict | None = None, loss: dict | None = None,
                 decoder: dict | None = None, init_cfg: dict | list | None = None) -> None:
        if out_channels is None:
            raise ValueError('RTMCCHead needs out_channels (the number of keypoints)')
        if init_cfg is None:
            init_cfg = [dict(type='Normal', layer=['Conv2d'], std=0.001),
                        dict(type='Constant', layer='BatchNorm2d', val=1),
                        dict(type='Normal', layer=['Linear'], std=0.01, bias=0)]
        super().__init__(init_cfg=init_cfg)
        gau = self._gau_settings(gau_cfg)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        if in_featuremap_size is None:
            in_featuremap_size = (self.input_size[0] // 32, self.input_size[1] // 32)
        self.in_featuremap_size = (int(in_featuremap_size[0]), int(in_featuremap_size[1]))
        self.simcc_split_ratio = float(simcc_split_ratio)
        flat = self.in_featuremap_size[0] * self.in_featuremap_size[1]
        hidden = int(gau['hidden_dims'])

        self.final_layer = nn.Conv2d(self.in_channels, self.out_channels,
                                     final_layer_kernel_size, 1, final_layer_kernel_size // 2)
        self.mlp = nn.Sequential(ScaleNorm(flat), nn.Linear(flat, hidden, bias=False))
        self.gau = GatedAttentionUnit(hidden, hidden, gau['expansion_factor'], gau['s'],
                                      dropout_rate=gau['dropout_rate'],
                                      drop_path=gau['drop_path'],
                                      act_cfg=dict(type=gau['act_fn']))
        self.cls_x = nn.Linear(hidden, int(self.input_size[0] * self.simcc_split_ratio),
                               bias=False)
        self.cls_y = nn.Linear(hidden, int(self.input_size[1] * self.simcc_split_ratio),
                               bias=False)
        self.loss_module = MODELS.build(loss if loss is not None else dict(
            type='KLDiscretLoss', use_target_weight=True, beta=10.0, label_softmax=True))
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

    @staticmethod
    def _gau_settings(gau_cfg: dict | None) -> dict:
        cfg = dict(_GAU_DEFAULTS)
        unknown = sorted(set(gau_cfg or {}) - set(cfg))
        if unknown:
            raise ValueError(f'unknown gau_cfg keys {unknown}; known: {sorted(cfg)}')
        cfg.update(gau_cfg or {})
        for key in ('use_rel_bias', 'pos_enc'):
            if cfg[key]:
                raise ValueError(f'gau_cfg.{key}=True is not available; the RTMPose '
                                 'recipes use False')
        return cfg

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Backbone outputs (the last one is used) -> ``(simcc_x (B, K, Wx),
        simcc_y (B, K, Wy))``."""
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        tokens = self.gau(self.mlp(torch.flatten(self.final_layer(x), 2)))
        return self.cls_x(tokens), self.cls_y(tokens)

    def loss(self, feats: Sequence[torch.Tensor], data_samples: Sequence[PoseDataSample],
             train_cfg: dict | None = None) -> dict[str, torch.Tensor]:
        """KL loss against ``gt_instance_labels.keypoint_x_labels`` /
        ``keypoint_y_labels`` weighted by ``keypoint_weights``.

        Returns:
            dict with ``loss_kpt`` and ``acc_pose`` (SimCC PCK@0.05, a
            detached value for the logs).
        """
        pred_x, pred_y = self.forward(feats)
        pred_x, pred_y = pred_x.float(), pred_y.float()
        labels = [s.gt_instance_labels for s in data_samples]
        gt_x = torch.cat([torch.as_tensor(lb.keypoint_x_labels) for lb in labels]).to(pred_x)
        gt_y = torch.cat([torch.as_tensor(lb.keypoint_y_labels) for lb in labels]).to(pred_y)
        weights = torch.cat([torch.as_tensor(lb.keypoint_weights).reshape(1, -1)
                             for lb in labels]).to(pred_x)
        acc = simcc_accuracy((pred_x.detach().cpu().numpy(), pred_y.detach().cpu().numpy()),
                             (gt_x.cpu().numpy(), gt_y.cpu().numpy()), weights.cpu().numpy())
        return dict(loss_kpt=self.loss_module((pred_x, pred_y), (gt_x, gt_y), weights),
                    acc_pose=torch.tensor(acc, device=pred_x.device))

    def predict_outputs(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                        test_cfg: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """SimCC vectors for inference, flip-test averaged when asked.

        Args:
            feats: backbone outputs; with ``test_cfg['flip_test']`` a pair
                ``(feats, feats_of_the_horizontally_flipped_input)``.
            flip_indices: the K partner indices (or a (B, K) table); needed
                for the flip test.
            test_cfg: ``flip_test`` (default False).

        Returns:
            ``(simcc_x (B, K, Wx), simcc_y (B, K, Wy))``.
        """
        cfg = dict(test_cfg or {})
        if not cfg.get('flip_test', False):
            return self.forward(feats)
        feats, flipped_feats = self.split_flip_feats(feats, flip_indices)
        simcc_x, simcc_y = self.forward(feats)
        flipped_x, flipped_y = flip_vectors(*self.forward(flipped_feats), flip_indices)
        return 0.5 * (simcc_x + flipped_x), 0.5 * (simcc_y + flipped_y)
