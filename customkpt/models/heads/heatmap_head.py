"""Heatmap head: backbone features -> K heatmaps -> keypoints in crop pixels.

For HRNet the head is a single 1x1 convolution named ``final_layer`` (state
dict keys ``final_layer.weight`` (K, C, 1, 1) and ``final_layer.bias`` (K,)).
Optional transposed convolutions (``deconv_layers``, each doubling the
resolution) and plain convolutions (``conv_layers``) come before it, as in
SimpleBaseline-style heads.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from customkpt.core.flip import flip_heatmaps
from customkpt.registry import KEYPOINT_CODECS, MODELS
from customkpt.structures import PoseDataSample

from .base import TopdownHead

__all__ = ['HeatmapHead', 'heatmap_accuracy']


def heatmap_accuracy(pred: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None,
                     thr: float = 0.05) -> float:
    """PCK of heatmap peaks, for training logs.

    A keypoint counts as correct when its predicted argmax lies within
    ``thr`` of the target argmax, with x normalised by the heatmap width and
    y by its height. Only keypoints with a positive weight and a target peak
    above 0 count.

    Args:
        pred, target: (B, K, H, W) heatmaps.
        weights: (B, K) weights, or None for all.
        thr: distance threshold.

    Returns:
        The share of correct keypoints, 0.0 when none count.
    """
    b, k, h, w = pred.shape
    p = pred.reshape(b, k, -1).argmax(-1)
    flat_target = target.reshape(b, k, -1)
    t = flat_target.argmax(-1)
    dist = np.hypot((p % w - t % w) / w, (p // w - t // w) / h)
    mask = flat_target.max(-1) > 0
    if weights is not None:
        mask &= np.asarray(weights).reshape(b, k) > 0
    return float((dist[mask] < thr).mean()) if mask.any() else 0.0


@MODELS.register_module()
class HeatmapHead(TopdownHead):
    """Predict K heatmaps from the last (highest-resolution) backbone feature.

    Args:
        in_channels: channels of the backbone output.
        out_channels: K, the number of keypoints.
        deconv_out_channels: output channels of stride-2 transposed convs
            (+ BN + ReLU); empty for HRNet.
        deconv_kernel_sizes: kernel (4, 3 or 2) per transposed conv; 4 each
            by default.
        conv_out_channels: output channels of convs (+ BN + ReLU) after the
            transposed convs.
        conv_kernel_sizes: kernel per conv; 3 each by default.
        final_layer_kernel: kernel of ``final_layer``.
        loss: loss config.
        decoder: codec config (``KEYPOINT_CODECS``) to turn heatmaps into
            keypoints; needed by :meth:`predict`.
        init_cfg: mmengine init config; N(0, 0.001) convs with zero bias and
            unit BatchNorm by default.
    """

    def __init__(self, in_channels: int = 32, out_channels: int | None = None,
                 deconv_out_channels: Sequence[int] = (),
                 deconv_kernel_sizes: Sequence[int] | None = None,
                 conv_out_channels: Sequence[int] = (),
                 conv_kernel_sizes: Sequence[int] | None = None,
                 final_layer_kernel: int = 1, loss: dict | None = None,
                 decoder: dict | None = None, init_cfg: dict | list | None = None) -> None:
        if out_channels is None:
            raise ValueError('HeatmapHead needs out_channels (the number of keypoints)')
        if init_cfg is None:
            init_cfg = [dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001,
                             bias=0),
                        dict(type='Constant', layer='BatchNorm2d', val=1)]
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels

        c = in_channels
        if deconv_kernel_sizes is None:
            deconv_kernel_sizes = [4] * len(deconv_out_channels)
        if len(deconv_kernel_sizes) != len(deconv_out_channels):
            raise ValueError('deconv_kernel_sizes needs one entry per deconv_out_channels')
        layers: list[nn.Module] = []
        for cout, kernel in zip(deconv_out_channels, deconv_kernel_sizes):
            padding, output_padding = {4: (1, 0), 3: (1, 1), 2: (0, 0)}.get(kernel, (None, None))
            if padding is None:
                raise ValueError(f'deconv kernel must be 4, 3 or 2, got {kernel}')
            layers += [nn.ConvTranspose2d(c, cout, kernel, 2, padding, output_padding,
                                          bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            c = cout
        self.deconv_layers = nn.Sequential(*layers) if layers else nn.Identity()

        if conv_kernel_sizes is None:
            conv_kernel_sizes = [3] * len(conv_out_channels)
        if len(conv_kernel_sizes) != len(conv_out_channels):
            raise ValueError('conv_kernel_sizes needs one entry per conv_out_channels')
        layers = []
        for cout, kernel in zip(conv_out_channels, conv_kernel_sizes):
            layers += [nn.Conv2d(c, cout, kernel, 1, kernel // 2, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            c = cout
        self.conv_layers = nn.Sequential(*layers) if layers else nn.Identity()

        self.final_layer = nn.Conv2d(c, out_channels, final_layer_kernel, 1,
                                     final_layer_kernel // 2)
        self.loss_module = MODELS.build(
            loss if loss is not None else dict(type='KeypointMSELoss', use_target_weight=True))
        self.decoder = KEYPOINT_CODECS.build(decoder) if decoder is not None else None

    def forward(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Backbone outputs (the last one is used) -> (B, K, H, W) heatmaps."""
        x = feats[-1] if isinstance(feats, (list, tuple)) else feats
        return self.final_layer(self.conv_layers(self.deconv_layers(x)))

    def loss(self, feats: Sequence[torch.Tensor], data_samples: Sequence[PoseDataSample],
             train_cfg: dict | None = None) -> dict[str, torch.Tensor]:
        """Heatmap loss against ``gt_fields.heatmaps`` weighted by
        ``gt_instance_labels.keypoint_weights``.

        Returns:
            dict with ``loss_kpt`` and ``acc_pose`` (heatmap PCK@0.05, a
            detached value for the logs).
        """
        # The loss is taken in float32 even when the forward pass ran under
        # bf16/fp16 autocast: the targets are small Gaussian values.
        pred = self.forward(feats).float()
        target = torch.stack([torch.as_tensor(s.gt_fields.heatmaps)
                              for s in data_samples]).to(pred)
        weights = torch.cat([torch.as_tensor(s.gt_instance_labels.keypoint_weights).reshape(1, -1)
                             for s in data_samples]).to(pred)
        acc = heatmap_accuracy(pred.detach().cpu().numpy(), target.cpu().numpy(),
                               weights.cpu().numpy())
        return dict(loss_kpt=self.loss_module(pred, target, weights),
                    acc_pose=torch.tensor(acc, device=pred.device))

    def predict_outputs(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                        test_cfg: dict | None = None) -> torch.Tensor:
        """Heatmaps for inference, flip-test averaged when asked.

        Args:
            feats: backbone outputs; with ``test_cfg['flip_test']`` a pair
                ``(feats, feats_of_the_horizontally_flipped_input)``.
            flip_indices: the K partner indices (or a (B, K) table) that
                swap left and right channels in flip test; needed then.
            test_cfg: ``flip_test`` (default False), ``flip_mode`` (only
                'heatmap') and ``shift_heatmap`` (default True).

        Returns:
            (B, K, H, W) heatmaps.
        """
        cfg = dict(test_cfg or {})
        if not cfg.get('flip_test', False):
            return self.forward(feats)
        if cfg.get('flip_mode', 'heatmap') != 'heatmap':
            raise ValueError(f"only flip_mode='heatmap' is supported, got {cfg['flip_mode']!r}")
        feats, flipped_feats = self.split_flip_feats(feats, flip_indices)
        heatmaps = self.forward(feats)
        flipped = flip_heatmaps(self.forward(flipped_feats), flip_indices,
                                cfg.get('shift_heatmap', True))
        return 0.5 * (heatmaps + flipped)
