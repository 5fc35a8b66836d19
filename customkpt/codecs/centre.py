"""Objects as centre points: the dense targets and the decoding of a
one-stage (CenterNet-style) detector / multi-instance keypoint model.

Every object is the peak of a Gaussian on a class heatmap at its box
centre; the cell of that peak (with ``regression_radius`` also its
neighbours, each relative to itself) regresses the box size, the centre's
offset from the cell and, for keypoint models, each keypoint as an offset
from the cell, plus a per-keypoint visibility score.

Conventions (N instances, K keypoints, C classes, grid W x H = input / stride):

* input pixels: pixel centres at integers (the image convention of
  :mod:`customkpt.core.flip`); a point ``p`` lies at grid coordinate
  ``f = p / stride`` and in cell ``floor(f)``; decoding gives back
  ``(cell + offset) * stride``;
* box size, centre offset and keypoint offsets are in grid cells;
* the Gaussian radius of a box follows CornerNet's rule: the largest
  corner shift that keeps the shifted box's IoU with the true box at
  ``min_overlap`` (0.7), with sigma = (2 r + 1) / 6.

Outputs of a model (what :meth:`CentreLabel.batch_decode` takes, B images),
by name:

* ``centre_heatmap`` (B, C, H, W) probabilities;
* ``box_size`` (B, 2, H, W) (w, h);
* ``centre_offset`` (B, 2, H, W) (x, y);
* ``keypoint_offsets`` (B, 2K, H, W), channel ``2k`` x and ``2k + 1`` y of
  point ``k``; ``keypoint_scores`` (B, K, H, W) probabilities (keypoint
  models only);
* with ``keypoint_heatmaps``: ``keypoint_heatmap`` (B, K, H, W)
  probabilities and ``keypoint_heatmap_offset`` (B, 2, H, W), which refine
  the regressed points (:mod:`customkpt.codecs.centre_keypoints`).

numpy only: the ONNX predictor decodes with it. :meth:`CentreLabel.flip_back`
also takes torch tensors (it only gathers, multiplies and adds), so the
model's flip test uses the same formula.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..core.boxes import nms, oks_nms
from ..core.flip import check_flip_indices, flip_heatmaps
from .base import HeatmapCodec
from .centre_keypoints import (HEATMAP_OUTPUTS, encode_keypoint_heatmaps, labelled_points,
                               refine_keypoints)
from .centre_maps import (gaussian_radius, letterbox_region, local_maxima, objects_to_image,
                          radius_sigma)
from .gaussian import generate_gaussian_heatmaps

__all__ = ['CentreLabel', 'gaussian_radius', 'local_maxima', 'letterbox_region']

BOX_OUTPUTS = ('centre_heatmap', 'box_size', 'centre_offset')
KEYPOINT_OUTPUTS = ('keypoint_offsets', 'keypoint_scores')
NMS_MODES = ('box', 'oks', 'none')


def _like(x: Any, values: np.ndarray) -> Any:
    """``values`` as a constant of ``x``'s kind (a tensor on its device and
    of its dtype for a tensor, float32 numpy otherwise), shaped (C, 1, 1)."""
    values = np.asarray(values, np.float32).reshape(-1, 1, 1)
    return x.new_tensor(values) if hasattr(x, 'new_tensor') else values


class CentreLabel:
    """Encode boxes (and keypoints) as centre targets; decode outputs back.

    Args:
        input_size: network input (w, h) in pixels, multiples of ``stride``.
        stride: input pixels per grid cell (4 or 8 usually).
        num_classes: C, one heatmap per class.
        num_keypoints: K; 0 for a detector.
        min_overlap: IoU of the Gaussian radius rule (see
            :func:`gaussian_radius`).
        regression_radius: the cells within this many cells of an object's
            centre (per axis) regress its box and keypoints too (each
            relative to itself); 0 for the centre cell alone (CenterNet).
            More regressing cells give the regression more to learn from.
        max_detections: most objects decoded per image.
        score_thr: lowest centre score decoded.
        nms: ``'box'`` (IoU per class), ``'oks'`` (keypoint models; needs
            the sigmas at decoding) or ``'none'`` (the 3 x 3 peak test alone).
        nms_thr: IoU / OKS above which the lower-scored object is dropped.
        keypoint_heatmaps: keypoint models only: K keypoint heatmaps and a
            sub-cell offset map refine the regressed points (see
            :mod:`~customkpt.codecs.centre_keypoints`). False (the default,
            and what older exports were) decodes the regression alone.
        peak_thr: lowest keypoint-heatmap peak that can replace a point.
        snap_distance: a peak replaces a point only within this fraction
            of the longer box side of it (None: anywhere inside the box).

    Attributes:
        heatmap_size: grid (W, H).
        output_names: the model outputs this codec decodes, in order.
        use_udp: False (whole-image inputs, plain pixel convention).
    """

    use_udp = False
    arg_names = ('input_size', 'stride', 'num_classes', 'num_keypoints', 'min_overlap',
                 'regression_radius', 'max_detections', 'score_thr', 'nms', 'nms_thr',
                 'keypoint_heatmaps', 'peak_thr', 'snap_distance')

    def __init__(self, input_size: Sequence[int] = (512, 512), stride: int = 4,
                 num_classes: int = 1, num_keypoints: int = 0, min_overlap: float = 0.7,
                 regression_radius: int = 0, max_detections: int = 100,
                 score_thr: float = 0.05, nms: str = 'box', nms_thr: float = 0.6,
                 keypoint_heatmaps: bool = False, peak_thr: float = 0.1,
                 snap_distance: float | None = 0.3) -> None:
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.stride = int(stride)
        if self.stride < 1 or any(v % self.stride for v in self.input_size):
            raise ValueError(f'CentreLabel: input_size {list(self.input_size)} must be '
                             f'multiples of stride {stride}')
        if int(num_classes) < 1 or int(num_keypoints) < 0:
            raise ValueError(f'CentreLabel: num_classes must be >= 1 and num_keypoints >= 0, '
                             f'got {num_classes} and {num_keypoints}')
        if nms not in NMS_MODES:
            raise ValueError(f'CentreLabel: nms must be one of {NMS_MODES}, got {nms!r}')
        if nms == 'oks' and int(num_keypoints) == 0:
            raise ValueError("CentreLabel: nms='oks' needs keypoints (num_keypoints > 0)")
        self.num_classes = int(num_classes)
        self.num_keypoints = int(num_keypoints)
        self.min_overlap = float(min_overlap)
        self.regression_radius = int(regression_radius)
        if self.regression_radius < 0:
            raise ValueError(f'CentreLabel: regression_radius must be >= 0, got '
                             f'{regression_radius}')
        self.max_detections = int(max_detections)
        self.score_thr = float(score_thr)
        self.nms = nms
        self.nms_thr = float(nms_thr)
        self.heatmap_size = (self.input_size[0] // self.stride,
                             self.input_size[1] // self.stride)
        if keypoint_heatmaps and not self.num_keypoints:
            raise ValueError('CentreLabel: keypoint_heatmaps needs keypoints (num_keypoints > 0)')
        self.keypoint_heatmaps = bool(keypoint_heatmaps)
        self.peak_thr = float(peak_thr)
        self.snap_distance = None if snap_distance is None else float(snap_distance)

    @property
    def output_names(self) -> tuple[str, ...]:
        return (BOX_OUTPUTS + (KEYPOINT_OUTPUTS if self.num_keypoints else ())
                + (HEATMAP_OUTPUTS if self.keypoint_heatmaps else ()))

    def output_channels(self) -> dict[str, int]:
        """Channels of each model output, by name."""
        k = self.num_keypoints
        return dict(zip(self.output_names, (self.num_classes, 2, 2, 2 * k, k, k, 2)))

    # ``type`` and every argument of ``arg_names`` (the config that builds
    # the codec again, sizes as lists), written as the heatmap codecs write it.
    to_dict = HeatmapCodec.to_dict
    __repr__ = HeatmapCodec.__repr__

    # ------------------------------------------------------------- encode
    def _instances(self, bboxes: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
        """Grid boxes of the usable instances, largest first: indices (M,),
        centres (M, 2), cells (M, 2) int, sizes (M, 2)."""
        w_in, h_in = self.input_size
        boxes = np.asarray(bboxes, np.float64).reshape(-1, 4).copy()
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w_in)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h_in)
        sizes = (boxes[:, 2:] - boxes[:, :2]) / self.stride
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2 / self.stride
        with np.errstate(invalid='ignore'):
            cells = np.floor(centres)
            grid = np.array(self.heatmap_size)
            usable = (np.isfinite(boxes).all(1) & (sizes > 0).all(1)
                      & (cells >= 0).all(1) & (cells < grid).all(1)
                      & (labels >= 0) & (labels < self.num_classes))
        index = np.flatnonzero(usable)
        index = index[np.argsort(-sizes[index].prod(1), kind='stable')]
        return index, centres[index], cells[index].astype(np.int64), sizes[index]

    def encode(self, bboxes: np.ndarray, labels: np.ndarray,
               keypoints: np.ndarray | None = None,
               keypoints_visible: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The dense training targets of one image.

        Args:
            bboxes: (N, 4) xyxy in input pixels (clipped to the input here).
            labels: (N,) class indices in ``[0, C)``.
            keypoints: (N, K, 2) in input pixels (keypoint models).
            keypoints_visible: (N, K); a point counts when > 0.5 and inside
                the input.

        Returns:
            float32 maps: ``centre_heatmap`` (C, H, W) (max of the instances'
            Gaussians, 1 at each centre cell), ``box_size`` (2, H, W),
            ``centre_offset`` (2, H, W), ``centre_weight`` (1, H, W) (1 at
            the regressing cells) and for keypoint models
            ``keypoint_offsets`` (2K, H, W) and ``keypoint_visibility``
            (K, H, W) (the visibility at the regressing cells: the score
            target and the offsets' weight). The regressing cells of an
            object are those within ``regression_radius`` of its centre
            cell, each regressing relative to itself. Where two objects
            meet, a centre cell wins over a neighbour cell and then the
            smaller box wins; boxes whose centre falls outside the input
            give nothing. With ``keypoint_heatmaps`` also the maps of
            :func:`~customkpt.codecs.centre_keypoints.encode_keypoint_heatmaps`.
        """
        labels = np.asarray(labels, np.int64).reshape(-1)
        w, h = self.heatmap_size
        k = self.num_keypoints
        channels = dict(centre_heatmap=self.num_classes, box_size=2, centre_offset=2,
                        centre_weight=1)
        if k:
            channels.update(keypoint_offsets=2 * k, keypoint_visibility=k)
        out = {name: np.zeros((c, h, w), np.float32) for name, c in channels.items()}
        index, centres, cells, sizes = self._instances(bboxes, labels)
        radii = np.maximum(gaussian_radius(sizes[:, 1], sizes[:, 0], self.min_overlap), 0)
        for i, cell, radius in zip(index, cells, radii):
            blob, _ = generate_gaussian_heatmaps(cell[None, None].astype(np.float64), None,
                                                 (w, h), radius_sigma(radius))
            heat = out['centre_heatmap'][labels[i]]
            np.maximum(heat, blob[0], out=heat)
        # The cells around each centre first, then the centres themselves, so
        # that no neighbour of one object takes another's centre cell.
        r = self.regression_radius
        around = [(dx, dy) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dx or dy]
        for shifts in (around, [(0, 0)]):
            for i, centre, cell, size in zip(index, centres, cells, sizes):
                for dx, dy in shifts:
                    x, y = cell[0] + dx, cell[1] + dy
                    if 0 <= x < w and 0 <= y < h:
                        self._write_cell(out, x, y, centre, size, keypoints, keypoints_visible, i)
        if self.keypoint_heatmaps:
            out.update(encode_keypoint_heatmaps(
                np.asarray(keypoints, np.float64).reshape(-1, k, 2)[index],
                np.asarray(keypoints_visible).reshape(-1, k)[index], radii, self.input_size,
                self.stride))
        return out

    def _write_cell(self, out: dict[str, np.ndarray], x: int, y: int, centre: np.ndarray,
                    size: np.ndarray, keypoints: np.ndarray | None,
                    keypoints_visible: np.ndarray | None, i: int) -> None:
        """Write instance ``i``'s regression targets at cell (x, y)."""
        out['box_size'][:, y, x] = size
        out['centre_offset'][:, y, x] = centre - (x, y)
        out['centre_weight'][0, y, x] = 1.0
        if not self.num_keypoints:
            return
        points = np.asarray(keypoints[i], np.float64).reshape(self.num_keypoints, 2)
        seen = labelled_points(points, keypoints_visible[i], self.input_size)
        offsets = np.where(seen[:, None], points / self.stride - (x, y), 0.0)
        out['keypoint_offsets'][:, y, x] = offsets.reshape(-1)
        out['keypoint_visibility'][:, y, x] = seen

    # ------------------------------------------------------------- decode
    def batch_decode(self, centre_heatmap: np.ndarray, box_size: np.ndarray,
                     centre_offset: np.ndarray, keypoint_offsets: np.ndarray | None = None,
                     keypoint_scores: np.ndarray | None = None,
                     keypoint_heatmap: np.ndarray | None = None,
                     keypoint_heatmap_offset: np.ndarray | None = None,
                     sigmas: Sequence[float] | None = None) -> list[dict[str, np.ndarray]]:
        """Objects of a batch of outputs (see the module docs), in input pixels.

        Peaks of the centre heatmap (3 x 3 maxima at or above ``score_thr``,
        the ``max_detections`` best over all classes) become objects; with
        ``keypoint_heatmaps`` their points are refined
        (:func:`~customkpt.codecs.centre_keypoints.refine_keypoints`);
        ``nms`` then removes duplicates. Outputs this codec does not
        decode (the keypoint heatmaps, for a codec without them) are ignored.

        Args:
            sigmas: (K,) OKS sigmas, needed for ``nms='oks'``.

        Returns:
            One dict per image: ``bboxes`` float32 (N, 4) xyxy, ``scores``
            (N,), ``labels`` int64 (N,) and, for keypoint models,
            ``keypoints`` (N, K, 2) and ``keypoint_scores`` (N, K); best
            first.
        """
        maps = dict(centre_heatmap=centre_heatmap, box_size=box_size,
                    centre_offset=centre_offset, keypoint_offsets=keypoint_offsets,
                    keypoint_scores=keypoint_scores, keypoint_heatmap=keypoint_heatmap,
                    keypoint_heatmap_offset=keypoint_heatmap_offset)
        arrays = {}
        for name in self.output_names:
            if maps[name] is None:
                raise ValueError(f'CentreLabel.batch_decode: {name} is missing '
                                 f'(num_keypoints={self.num_keypoints})')
            arrays[name] = np.asarray(maps[name], np.float32)
            want = (self.output_channels()[name], self.heatmap_size[1], self.heatmap_size[0])
            if arrays[name].ndim != 4 or arrays[name].shape[1:] != want:
                raise ValueError(f'CentreLabel.batch_decode: {name} must be (B, {want[0]}, '
                                 f'{want[1]}, {want[2]}), got {arrays[name].shape}')
        if self.nms == 'oks' and sigmas is None:
            raise ValueError("CentreLabel: nms='oks' needs the OKS sigmas to decode")
        peaks = local_maxima(arrays['centre_heatmap'])
        return [self._decode_one({n: a[b] for n, a in arrays.items()}, peaks[b], sigmas)
                for b in range(len(arrays['centre_heatmap']))]

    def decode(self, **outputs: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`batch_decode` of one image's (C, H, W) outputs."""
        sigmas = outputs.pop('sigmas', None)
        return self.batch_decode(**{n: np.asarray(v)[None] for n, v in outputs.items()},
                                 sigmas=sigmas)[0]

    def _decode_one(self, maps: Mapping[str, np.ndarray], peaks: np.ndarray,
                    sigmas: Sequence[float] | None) -> dict[str, np.ndarray]:
        heat = maps['centre_heatmap']
        _, h, w = heat.shape
        scores = np.where(peaks, heat, 0.0).reshape(-1)
        found = np.flatnonzero(scores >= self.score_thr)
        found = found[np.argsort(-scores[found], kind='stable')][:self.max_detections]
        labels, rest = np.divmod(found, h * w)
        y, x = np.divmod(rest, w)
        cell = np.stack([x, y], axis=1).astype(np.float32)
        centre = (cell + maps['centre_offset'][:, y, x].T) * self.stride
        half = np.maximum(maps['box_size'][:, y, x].T, 0) * (self.stride / 2)
        out = dict(bboxes=np.concatenate([centre - half, centre + half], 1).astype(np.float32),
                   scores=scores[found].astype(np.float32), labels=labels.astype(np.int64))
        if self.num_keypoints:
            offsets = maps['keypoint_offsets'][:, y, x].T.reshape(-1, self.num_keypoints, 2)
            out['keypoints'] = ((offsets + cell[:, None]) * self.stride).astype(np.float32)
            out['keypoint_scores'] = maps['keypoint_scores'][:, y, x].T.astype(np.float32)
        if self.keypoint_heatmaps:
            out['keypoints'], out['keypoint_scores'] = refine_keypoints(
                out, maps, self.stride, self.peak_thr, self.max_detections, self.snap_distance)
        kept = self._kept(out, sigmas)
        return {name: value[kept] for name, value in out.items()}

    def _kept(self, out: Mapping[str, np.ndarray], sigmas: Sequence[float] | None
              ) -> np.ndarray:
        """Indices left by ``nms``, best first."""
        if self.nms == 'none' or len(out['scores']) < 2:
            return np.arange(len(out['scores']))
        if self.nms == 'box':
            return nms(out['bboxes'], out['scores'], self.nms_thr, out['labels'])
        boxes = out['bboxes']
        areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
        keep = []
        for label in np.unique(out['labels']):  # classes never suppress each other
            idx = np.flatnonzero(out['labels'] == label)
            keep.append(idx[oks_nms(out['keypoints'][idx], out['scores'][idx], areas[idx],
                                    sigmas, self.nms_thr)])
        keep = np.concatenate(keep)
        return keep[np.argsort(-out['scores'][keep], kind='stable')]

    def to_image(self, objects: Mapping[str, np.ndarray], centre: Sequence[float],
                 size: Sequence[float], image_shape: Sequence[int] | None = None
                 ) -> dict[str, np.ndarray]:
        """:func:`~customkpt.codecs.centre_maps.objects_to_image` of one
        image's decoded objects, from this codec's input to image pixels."""
        return objects_to_image(objects, self.input_size, centre, size, image_shape)

    # --------------------------------------------------------------- flip
    def flip_back(self, outputs: Mapping[str, Any],
                  flip_indices: Sequence[int] | None = None) -> dict[str, Any]:
        """Outputs of the horizontally mirrored input, brought back to the
        original one (numpy arrays or torch tensors, (B, C, H, W)).

        Column ``j`` takes mirrored column ``W - 1 - j``; keypoint channels
        (offsets, scores, heatmaps) are swapped by ``flip_indices`` (the
        mirror partner of each point); x offsets (the keypoint heatmaps'
        sub-cell ones too) become ``c - x`` with ``c = (input_w - 1) /
        stride - (W - 1)``, so that the point they give is mirrored exactly
        (``x -> input_w - 1 - x``); sizes, y offsets, scores and heatmap
        values keep their values.

        Raises:
            ValueError: a keypoint model without a valid ``flip_indices``.
        """
        k = self.num_keypoints
        if k and flip_indices is None:
            raise ValueError('CentreLabel.flip_back needs flip_indices for keypoint outputs')
        table = check_flip_indices(flip_indices, k) if k else np.arange(0)
        const = (self.input_size[0] - 1) / self.stride - (self.heatmap_size[0] - 1)
        pairs = np.stack([2 * table, 2 * table + 1], axis=1).reshape(-1)
        tables = dict(centre_heatmap=np.arange(self.num_classes), box_size=np.arange(2),
                      centre_offset=np.arange(2), keypoint_offsets=pairs,
                      keypoint_scores=table, keypoint_heatmap=table,
                      keypoint_heatmap_offset=np.arange(2))
        back = {}
        for name in self.output_names:
            value = flip_heatmaps(outputs[name], tables[name], shift=False)
            if name in ('centre_offset', 'keypoint_offsets', 'keypoint_heatmap_offset'):
                channels = value.shape[-3]
                sign = np.tile([-1.0, 1.0], channels // 2)
                add = np.tile([const, 0.0], channels // 2)
                value = value * _like(value, sign) + _like(value, add)
            back[name] = value
        return back
