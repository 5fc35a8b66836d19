"""The unlabelled half of a semi-supervised training step.

A semi-supervised batch (``customkpt.datasets.SemiSupervisedDataset`` with
``semi_supervised_collate``) holds the labelled crops and, after them, the
crops of whole clips of consecutive video frames, each frame's data sample
marked ``metainfo['unlabelled'] = True`` with its place in the clip
(``clip_frame`` 0 .. T-1, ``clip_length`` T). :class:`UnlabelledLosses`
runs the backbone once on all crops, gives the labelled ones to the head's
own loss and decodes the head outputs of the unlabelled ones
differentiably into an
:class:`~customkpt.models.losses.unsupervised.UnlabelledBatch` for the
unsupervised losses (with the mirrored frames' outputs for a loss that
``needs_flipped``); each loss appears as ``loss_<name>``, multiplied by the
ramp factor :attr:`UnlabelledLosses.weight` (set every iteration by
``customkpt.engine.semi_supervised.SemiSupervisedHook``).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn

from customkpt.core.flip import flip_heatmaps, flip_vectors
from customkpt.core.geometry import crop_to_image
from customkpt.registry import MODELS
from customkpt.structures import PoseDataSample

from .losses.unsupervised import UnlabelledBatch, soft_argmax_heatmaps, soft_argmax_vectors

__all__ = ['UnlabelledLosses', 'is_unlabelled', 'UNLABELLED_KEY']

#: The metainfo flag of an unlabelled frame's data sample.
UNLABELLED_KEY = 'unlabelled'
#: Default softmax factor of the heatmap soft-argmax (peak-1 heatmaps).
HEATMAP_BETA = 10.0


def is_unlabelled(sample: PoseDataSample) -> bool:
    return bool(sample.metainfo.get(UNLABELLED_KEY, False))


def _select(feats: Any, index: list[int]) -> Any:
    """Backbone features (a tensor or a list / tuple of them) of some samples."""
    if isinstance(feats, torch.Tensor):
        return feats[index]
    return type(feats)(_select(f, index) for f in feats)


def _clip_length(samples: Sequence[PoseDataSample]) -> int:
    """T of the unlabelled samples, checked to be whole clips in frame order."""
    length = int(samples[0].metainfo.get('clip_length', 1))
    frames = [int(s.metainfo.get('clip_frame', 0)) for s in samples]
    expected = list(range(length)) * (len(samples) // length)
    if frames != expected:
        raise ValueError(f'unlabelled samples must come as whole clips of {length} frames in '
                         f'order (clip_frame 0..{length - 1}), got clip_frame {frames}')
    return length


def _image_affine(samples: Sequence[PoseDataSample], use_udp: bool
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Per sample crop -> image map ``image = crop * scale + offset``:
    ``scale`` and ``offset`` (M, 2), from :func:`crop_to_image`."""
    size = samples[0].metainfo['input_size']
    centres = np.stack([np.asarray(s.metainfo['input_center'], np.float32).reshape(2)
                        for s in samples])
    scales = np.stack([np.asarray(s.metainfo['input_scale'], np.float32).reshape(2)
                       for s in samples])
    origin = crop_to_image(np.zeros((len(samples), 1, 2)), size, centres, scales, use_udp)
    unit = crop_to_image(np.ones((len(samples), 1, 2)), size, centres, scales, use_udp)
    return unit[:, 0] - origin[:, 0], origin[:, 0]


class UnlabelledLosses(nn.Module):
    """Unsupervised losses on the unlabelled frames of a batch.

    Args:
        losses: ``name -> loss config``; each built loss has ``compute(batch)``
            and is reported as ``loss_<name>``.
        beta: softmax factor of the soft-argmax; ``None``: 10 for heatmaps,
            the head loss's ``beta`` (the model's own distribution) for SimCC.
        window: only the outputs within this distance of each maximum count
            in the soft-argmax (heatmap pixels or bins); ``None``: 3 x the
            codec's sigma.

    Attributes:
        weight: factor on every unsupervised loss (the ramp), 1 by default.
    """

    def __init__(self, losses: dict[str, dict], beta: float | None = None,
                 window: float | None = None) -> None:
        super().__init__()
        if not losses:
            raise ValueError('semi-supervised training needs at least one unsupervised loss')
        self.losses = nn.ModuleDict({str(name): MODELS.build(cfg) if isinstance(cfg, dict)
                                     else cfg for name, cfg in losses.items()})
        self.beta = None if beta is None else float(beta)
        self.window = None if window is None else float(window)
        self.weight = 1.0

    @property
    def needs_flipped(self) -> bool:
        """Whether a loss reads the mirrored frames' outputs."""
        return any(getattr(loss, 'needs_flipped', False) for loss in self.losses.values())

    def loss(self, model: nn.Module, inputs: torch.Tensor,
             data_samples: Sequence[PoseDataSample]) -> dict[str, torch.Tensor]:
        """The head's losses on the labelled samples and ``loss_<name>`` of
        each unsupervised loss on the unlabelled ones (0 when there are none).
        With a loss that ``needs_flipped``, the mirrored unlabelled crops go
        through the backbone in the same pass, after the others, then the
        crops of each loss with ``make_view(crops) -> (views, transforms)``,
        whose ``compute(batch, view_outputs, transforms)`` gets their head
        outputs."""
        unlabelled = [i for i, s in enumerate(data_samples) if is_unlabelled(s)]
        labelled = [i for i, s in enumerate(data_samples) if not is_unlabelled(s)]
        if not labelled:
            raise ValueError('a semi-supervised batch needs labelled samples, got only '
                             f'{len(unlabelled)} unlabelled frames')
        head = model.head
        if not unlabelled:
            losses = head.loss(model.extract_feat(inputs), data_samples,
                               train_cfg=model.train_cfg)
            zero = inputs.new_zeros((), dtype=torch.float32)
            losses.update({f'loss_{name}': zero for name in self.losses})
            return losses
        extra = [inputs[unlabelled].flip(-1)] if self.needs_flipped else []
        views = {}                  # name -> (its slot in ``extra``, transforms)
        for name, loss in self.losses.items():
            if hasattr(loss, 'make_view'):
                crops, transforms = loss.make_view(inputs[unlabelled])
                views[name] = (len(extra), transforms)
                extra.append(crops)
        start = len(data_samples)
        feats = model.extract_feat(torch.cat([inputs, *extra]) if extra else inputs)
        losses = head.loss(_select(feats, labelled), [data_samples[i] for i in labelled],
                           train_cfg=model.train_cfg)
        samples = [data_samples[i] for i in unlabelled]
        batch = self.make_batch(head, head.forward(_select(feats, unlabelled)), samples)

        def extra_outputs(slot: int) -> Any:
            first = start + slot * len(unlabelled)
            return head.forward(_select(feats, list(range(first, first + len(unlabelled)))))

        if self.needs_flipped:
            batch.flipped_outputs = self.unflip(model, extra_outputs(0), samples)
        for name, loss in self.losses.items():
            if name in views:
                slot, transforms = views[name]
                value = loss.compute(batch, extra_outputs(slot), transforms)
            else:
                value = loss.compute(batch)
            losses[f'loss_{name}'] = value * self.weight
        return losses

    @staticmethod
    def unflip(model: nn.Module, outputs: Any, samples: Sequence[PoseDataSample]) -> Any:
        """Head outputs of mirrored crops, mirrored back with the model's flip
        table (heatmaps shifted as its ``test_cfg['shift_heatmap']``)."""
        table = model.flip_indices(samples)
        if isinstance(outputs, torch.Tensor):
            shift = bool((getattr(model, 'test_cfg', None) or {}).get('shift_heatmap', True))
            return flip_heatmaps(outputs, table, shift)
        return flip_vectors(outputs[0], outputs[1], table)

    def decode(self, head: nn.Module, outputs: Any) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Soft-argmax ``peaks`` (M, K, 2) in output units, the same in crop
        pixels, and the softmax factor used."""
        codec = head.decoder
        if codec is None:
            raise ValueError('semi-supervised training needs the head to have a decoder codec')
        sigma = float(np.max(np.asarray(codec.sigma, np.float64)))
        window = self.window if self.window is not None else 3.0 * sigma
        if isinstance(outputs, torch.Tensor):
            beta = self.beta if self.beta is not None else HEATMAP_BETA
            peaks = soft_argmax_heatmaps(outputs, beta, window)
            crop = peaks * peaks.new_tensor(np.asarray(codec.scale_factor, np.float32))
        else:
            beta = self.beta if self.beta is not None else float(
                getattr(head.loss_module, 'beta', 1.0))
            peaks = soft_argmax_vectors(outputs[0], outputs[1], beta, window)
            crop = peaks / float(codec.simcc_split_ratio)
        return peaks, crop, beta

    def make_batch(self, head: nn.Module, outputs: Any,
                   samples: Sequence[PoseDataSample]) -> UnlabelledBatch:
        """The :class:`UnlabelledBatch` of the unlabelled samples' outputs."""
        length = _clip_length(samples)
        peaks, crop, beta = self.decode(head, outputs)
        scale, offset = _image_affine(samples, bool(head.decoder.use_udp))
        keypoints = crop * crop.new_tensor(scale)[:, None] + crop.new_tensor(offset)[:, None]
        boxes = np.stack([np.asarray(s.gt_instances.bboxes, np.float32).reshape(4)
                          for s in samples])
        return UnlabelledBatch(outputs=outputs, peaks=peaks, keypoints=keypoints,
                               boxes=crop.new_tensor(boxes), clip_length=length, head=head,
                               beta=beta)
