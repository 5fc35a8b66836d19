"""The dense head of the one-stage centre model: per grid cell, class
heatmaps, box size, centre offset and (keypoint models) K keypoint offsets
and scores, plus, with the codec's ``keypoint_heatmaps``, K keypoint
heatmaps and their sub-cell offset; see :mod:`customkpt.codecs.centre` for
what they mean."""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log

from customkpt.codecs.centre_keypoints import HEATMAP_TARGETS
from customkpt.registry import KEYPOINT_CODECS, MODELS

from ..heads.base import TopdownHead
from ..layers import ConvBNAct
from .losses import centre_focal_loss, masked_bce, masked_l1, oks_loss

__all__ = ['CentreHead', 'LOSS_WEIGHTS']

#: Default weight of each loss term (CenterNet's: size 0.1, the rest 1).
LOSS_WEIGHTS = dict(centre=1.0, size=0.1, offset=1.0, keypoint=1.0, visibility=1.0,
                    keypoint_heatmap=1.0, keypoint_heatmap_offset=1.0)
#: The heatmap prior at initialisation: bias log(0.1 / 0.9), as CenterNet.
HEATMAP_PRIOR_BIAS = -2.19
KEYPOINT_LOSSES = ('l1', 'oks')
#: Outputs that are probabilities (logits before :meth:`CentreHead.activate`).
PROBABILITY_OUTPUTS = ('centre_heatmap', 'keypoint_scores', 'keypoint_heatmap')


@MODELS.register_module()
class CentreHead(TopdownHead):
    """One branch per output (a 3x3 :class:`ConvBNAct` then a 1x1 conv).

    The outputs, their channels and their decoding are those of the
    ``decoder`` codec (:class:`~customkpt.codecs.CentreLabel`): C class
    heatmaps, size, offset and, when its ``num_keypoints`` K is not 0,
    2K keypoint offsets and K keypoint score logits; with the codec's
    ``keypoint_heatmaps`` also K keypoint heatmap logits and a 2-channel
    sub-cell offset. A detector is the same head with a codec of
    ``num_keypoints=0``.

    Args:
        in_channels: channels of the feature map (the first of ``feats``).
        decoder: the ``CentreLabel`` codec config.
        feat_channels: channels inside each branch.
        keypoint_loss: ``'l1'`` (offsets in grid cells, weighted by
            visibility) or ``'oks'`` (``1 - OKS`` with ``oks_sigmas``).
        oks_sigmas: (K,) per-keypoint sigmas, for ``keypoint_loss='oks'``.
        loss_weights: overrides of :data:`LOSS_WEIGHTS`.
        focal_alpha, focal_beta: the focal loss exponents (2 and 4).
        norm_cfg, act_cfg: of the branch convs (BN, SiLU by default).

    Attributes:
        out_channels: K for a keypoint model (what the checkpoint and
            dataset checks compare), None for a detector.
    """

    def __init__(self, in_channels: int, decoder: dict, feat_channels: int = 64,
                 keypoint_loss: str = 'l1', oks_sigmas: Sequence[float] | None = None,
                 loss_weights: dict | None = None, focal_alpha: float = 2.0,
                 focal_beta: float = 4.0, norm_cfg: dict | None = None,
                 act_cfg: dict | None = None, init_cfg: dict | list | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.decoder = KEYPOINT_CODECS.build(decoder)
        if not hasattr(self.decoder, 'flip_back'):
            raise ValueError(f'CentreHead needs a CentreLabel decoder, got '
                             f'{type(self.decoder).__name__}')
        self.num_keypoints = self.decoder.num_keypoints
        self.out_channels = self.num_keypoints or None
        if keypoint_loss not in KEYPOINT_LOSSES:
            raise ValueError(f'keypoint_loss must be one of {KEYPOINT_LOSSES}, got '
                             f'{keypoint_loss!r}')
        if keypoint_loss == 'oks' and self.num_keypoints and (
                oks_sigmas is None or len(oks_sigmas) != self.num_keypoints):
            raise ValueError(f"keypoint_loss='oks' needs oks_sigmas with {self.num_keypoints} "
                             f'values, got {oks_sigmas!r}')
        unknown = set(loss_weights or {}) - set(LOSS_WEIGHTS)
        if unknown:
            raise ValueError(f'unknown loss_weights {sorted(unknown)}; known: '
                             f'{sorted(LOSS_WEIGHTS)}')
        self.keypoint_loss = keypoint_loss
        self.oks_sigmas = None if oks_sigmas is None else [float(s) for s in oks_sigmas]
        self.loss_weights = dict(LOSS_WEIGHTS, **(loss_weights or {}))
        self.focal = (float(focal_alpha), float(focal_beta))
        conv = dict(norm_cfg=norm_cfg or dict(type='BN'), act_cfg=act_cfg or dict(type='SiLU'))
        self.branches = nn.ModuleDict({
            name: nn.Sequential(ConvBNAct(in_channels, feat_channels, 3, **conv),
                                nn.Conv2d(feat_channels, channels, 1))
            for name, channels in self.decoder.output_channels().items()})
        for name in ('centre_heatmap', 'keypoint_heatmap'):
            if name in self.branches:
                nn.init.constant_(self.branches[name][-1].bias, HEATMAP_PRIOR_BIAS)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Warn when the weights come from a model without keypoint heatmaps
        (their branch would stay random and its peaks would move the
        points)."""
        def has(name: str) -> bool:
            return any(key.startswith(f'{prefix}branches.{name}.') for key in state_dict)

        if self.decoder.keypoint_heatmaps and has('keypoint_offsets') and not has(
                'keypoint_heatmap'):
            print_log('CentreHead: the checkpoint has no keypoint heatmap branch (it was '
                      'trained with keypoint_heatmaps = False); set keypoint_heatmaps = False '
                      'in the config to decode it by regression alone', logger='current',
                      level=logging.WARNING)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, feats: Sequence[torch.Tensor] | torch.Tensor) -> dict[str, torch.Tensor]:
        """The first (finest) map of ``feats`` -> raw outputs by name
        (heatmap and keypoint scores as logits)."""
        x = feats[0] if isinstance(feats, (list, tuple)) else feats
        return {name: branch(x) for name, branch in self.branches.items()}

    @staticmethod
    def activate(raw: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Raw outputs -> what the codec decodes (sigmoid of the heatmaps and
        the keypoint scores, :data:`PROBABILITY_OUTPUTS`)."""
        return {name: value.sigmoid() if name in PROBABILITY_OUTPUTS else value
                for name, value in raw.items()}

    def loss(self, feats: Sequence[torch.Tensor], data_samples: Sequence[Any],
             train_cfg: dict | None = None) -> dict[str, torch.Tensor]:
        """Losses against the codec's targets in each sample's ``gt_fields``
        (see :meth:`loss_by_outputs`)."""
        raw = {name: value.float() for name, value in self.forward(feats).items()}
        device = raw['centre_heatmap'].device
        names = ['centre_heatmap', 'box_size', 'centre_offset', 'centre_weight']
        if self.num_keypoints:
            names += ['keypoint_offsets', 'keypoint_visibility']
        if self.decoder.keypoint_heatmaps:
            names += list(HEATMAP_TARGETS)
        missing = [n for n in names if data_samples and data_samples[0].gt_fields.get(n) is None]
        if missing:
            raise KeyError(f'CentreHead.loss: the samples lack the targets {missing}: encode '
                           'them with the head\'s codec (GenerateCentreTarget encoder)')
        t = {name: torch.stack([torch.as_tensor(s.gt_fields.get(name)) for s in data_samples]
                               ).to(device=device, dtype=torch.float32) for name in names}
        return self.loss_by_outputs(raw, t)

    def loss_by_outputs(self, raw: dict[str, torch.Tensor], t: dict[str, torch.Tensor]
                        ) -> dict[str, torch.Tensor]:
        """Weighted losses of raw outputs (:meth:`forward`) against (B, c, H,
        W) targets by name (:meth:`customkpt.codecs.CentreLabel.encode`).

        Returns:
            ``loss_centre``, ``loss_size``, ``loss_offset``; for keypoint
            models ``loss_kpt`` and ``loss_vis``; with keypoint heatmaps
            ``loss_kpt_heatmap`` (the focal loss over the K maps, per
            labelled point) and ``loss_kpt_heatmap_offset`` (L1 at the
            labelled points' cells).
        """
        w = self.loss_weights
        losses = dict(
            loss_centre=w['centre'] * centre_focal_loss(raw['centre_heatmap'],
                                                        t['centre_heatmap'], *self.focal),
            loss_size=w['size'] * masked_l1(raw['box_size'], t['box_size'], t['centre_weight']),
            loss_offset=w['offset'] * masked_l1(raw['centre_offset'], t['centre_offset'],
                                                t['centre_weight']))
        if self.num_keypoints:
            visible = t['keypoint_visibility']
            if self.keypoint_loss == 'oks':
                kpt = oks_loss(raw['keypoint_offsets'], t['keypoint_offsets'], visible,
                               t['box_size'], self.oks_sigmas)
            else:
                kpt = masked_l1(raw['keypoint_offsets'], t['keypoint_offsets'],
                                visible.repeat_interleave(2, dim=1))
            losses['loss_kpt'] = w['keypoint'] * kpt
            losses['loss_vis'] = w['visibility'] * masked_bce(
                raw['keypoint_scores'], visible, t['centre_weight'])
        if self.decoder.keypoint_heatmaps:
            losses['loss_kpt_heatmap'] = w['keypoint_heatmap'] * centre_focal_loss(
                raw['keypoint_heatmap'], t['keypoint_heatmap'], *self.focal)
            losses['loss_kpt_heatmap_offset'] = w['keypoint_heatmap_offset'] * masked_l1(
                raw['keypoint_heatmap_offset'], t['keypoint_heatmap_offset'],
                t['keypoint_heatmap_weight'])
        return losses

    def predict_outputs(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                        test_cfg: dict | None = None) -> dict[str, torch.Tensor]:
        """Activated outputs by name; with ``test_cfg['flip_test']`` and
        ``feats`` a pair (features of the input, of the mirrored input), the
        mean of both, the mirrored one brought back by the codec's
        :meth:`~customkpt.codecs.CentreLabel.flip_back`."""
        if not (test_cfg or {}).get('flip_test', False):
            return self.activate(self.forward(feats))
        feats, flipped_feats = self.split_flip_feats(feats, flip_indices)
        outputs = self.activate(self.forward(feats))
        back = self.decoder.flip_back(self.activate(self.forward(flipped_feats)), flip_indices)
        return {name: 0.5 * (outputs[name] + back[name]) for name in outputs}

    def decode(self, outputs: dict[str, torch.Tensor],
               sigmas: Sequence[float] | None = None) -> list[dict[str, np.ndarray]]:
        """Activated outputs -> per image the codec's objects (numpy, input
        pixels)."""
        arrays = {name: value.detach().float().cpu().numpy() for name, value in outputs.items()}
        return self.decoder.batch_decode(**arrays, sigmas=sigmas)

    def predict(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                test_cfg: dict | None = None) -> list[dict[str, np.ndarray]]:
        return self.decode(self.predict_outputs(feats, flip_indices, test_cfg))
