"""Horizontal flip of keypoints, boxes, heatmaps and SimCC vectors.

One convention everywhere: pixel column ``x`` of an image ``w`` pixels wide
becomes column ``w - 1 - x`` when the image is mirrored (pixel centres stay
pixel centres), and slot ``k`` receives what was in slot ``flip_indices[k]``
(the mirror partner of point ``k``, itself when unpaired), so that after the
flip the point stored as "left hand" is again the subject's left hand.

:func:`flip_heatmaps` and :func:`flip_vectors` take numpy arrays or torch
tensors. They only index with integer arrays (one gather per axis), so a
model that calls them inside ``forward`` exports to ONNX as plain ``Gather``
nodes. This module does not import torch: a tensor is recognised by its
``device`` attribute and index tensors are made with its own module.
"""
from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np

__all__ = ['check_flip_indices', 'mirror_points', 'flip_keypoints', 'flip_boxes',
           'flip_heatmaps', 'flip_vectors']


def _is_tensor(x: Any) -> bool:
    """True for a torch tensor (anything with ``device`` and ``detach``)."""
    return hasattr(x, 'device') and hasattr(x, 'detach')


def _table_array(flip_indices: Any) -> np.ndarray:
    """A flip table (list, numpy array or tensor) as an int64 numpy array."""
    if _is_tensor(flip_indices):
        flip_indices = flip_indices.detach().cpu().numpy()
    return np.asarray(flip_indices, dtype=np.int64)


def check_flip_indices(flip_indices: Sequence[int] | np.ndarray, num_keypoints: int,
                       batch_size: int | None = None) -> np.ndarray:
    """Validate a flip table and return it as int64.

    Args:
        flip_indices: K partner indices, or with ``batch_size`` also a
            (B, K) table (one row per sample).
        num_keypoints: K.
        batch_size: B when per-sample tables are allowed; None for (K,) only.

    Returns:
        int64 (K,), or (B, K) when a per-sample table was given.

    Raises:
        ValueError: wrong length, wrong number of rows or an entry outside
            ``[0, K)``.
    """
    idx = _table_array(flip_indices)
    if batch_size is None or idx.ndim <= 1:
        idx = idx.reshape(-1)
        if idx.shape != (num_keypoints,):
            raise ValueError(f'flip_indices has {idx.size} entries for K={num_keypoints} '
                             'keypoints (it needs one partner index per point, itself when '
                             'unpaired)')
    elif idx.shape != (batch_size, num_keypoints):
        raise ValueError(f'flip_indices has shape {idx.shape}; a per-sample table needs '
                         f'({batch_size}, {num_keypoints}) (B, K)')
    if idx.size and (idx.min() < 0 or idx.max() >= num_keypoints):
        raise ValueError(f'flip_indices {idx.tolist()} has entries outside [0, {num_keypoints})')
    return idx


def mirror_points(points: np.ndarray, image_width: float) -> np.ndarray:
    """Mirror (..., 2) (x, y) points: ``x -> image_width - 1 - x``.

    Returns a new array of the input's dtype; the input is not modified.
    """
    out = np.array(points)
    out[..., 0] = (image_width - 1) - out[..., 0]
    return out


def flip_keypoints(keypoints: np.ndarray, visible: np.ndarray | None, image_width: float,
                   flip_indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Mirror keypoints horizontally and swap left/right partners.

    Each x becomes ``image_width - 1 - x`` (the same for the plain and the
    UDP crop convention: both keep image keypoints on pixel centres) and
    slot ``k`` receives the point that was in slot ``flip_indices[k]``.

    Args:
        keypoints: (..., K, 2) (x, y) in image pixels, usually (N, K, 2).
        visible: (..., K) visibility, or None.
        image_width: width of the image the points live in, in pixels.
        flip_indices: K partner indices (itself for unpaired points).

    Returns:
        New arrays: keypoints (..., K, 2) and visibility (..., K) (None when
        ``visible`` is None). The inputs are not modified.
    """
    keypoints = np.asarray(keypoints)
    idx = check_flip_indices(flip_indices, keypoints.shape[-2])
    out = mirror_points(keypoints[..., idx, :], image_width)
    if visible is None:
        return out, None
    return out, np.asarray(visible)[..., idx]


def flip_boxes(boxes: np.ndarray, image_width: float) -> np.ndarray:
    """Mirror (..., 4) xyxy boxes horizontally, keeping ``x1 <= x2``.

    Returns a new float32 array.
    """
    box = np.array(boxes, dtype=np.float32)
    box[..., [0, 2]] = (image_width - 1) - box[..., [2, 0]]
    return box


def _index_like(x: Any, index: np.ndarray) -> Any:
    """``index`` as an index for ``x``: a long tensor on ``x``'s device for a
    tensor, the numpy array itself otherwise."""
    if not _is_tensor(x):
        return index
    module = sys.modules[type(x).__module__.split('.')[0]]
    return module.as_tensor(index, device=x.device)


def _swap_channels(x: Any, table: np.ndarray, axis: int) -> Any:
    """Take channel ``table[k]`` into slot ``k`` along ``axis`` (negative).

    ``table`` is (K,) for the whole batch or (B, K) per sample; in the
    per-sample case axis 0 is the batch and the gather runs on the flattened
    (B * K) axis, still a single integer-array index.
    """
    k = x.shape[axis]
    tail = (slice(None),) * (-axis - 1)
    if table.ndim == 1:
        return x[(Ellipsis, _index_like(x, table)) + tail]
    b = x.shape[0]
    if x.ndim + axis != 1:
        raise ValueError(f'a (B, K) flip table needs the channel axis right after the batch '
                         f'axis, got {x.ndim}-d input with channel axis {axis}')
    flat_index = (np.arange(b, dtype=np.int64)[:, None] * k + table).reshape(-1)
    flat = x.reshape((b * k,) + tuple(x.shape[2:]))
    return flat[_index_like(x, flat_index)].reshape(tuple(x.shape))


def flip_heatmaps(heatmaps: Any, flip_indices: Sequence[int] | np.ndarray | Any,
                  shift: bool = True) -> Any:
    """Undo a horizontal input flip on heatmaps (numpy array or torch tensor).

    Mirrors the last axis, moves channel ``flip_indices[k]`` into slot ``k``
    (a left point predicted on the mirrored image is the right point of the
    original) and, when ``shift``, moves the maps one pixel right
    (``out[..., 1:] = out[..., :-1]``; column 0 keeps its value), which
    compensates the off-by-one of the mirrored heatmap grid.

    Args:
        heatmaps: (B, K, H, W) (or (K, H, W) with a (K,) table) heatmaps
            predicted on the flipped input.
        flip_indices: K ints shared by the batch, or a (B, K) integer table
            with one row per sample.
        shift: apply the one-pixel shift.

    Returns:
        The flipped heatmaps, of the input's type, dtype and device.

    Raises:
        ValueError: a table that does not fit the heatmaps.
    """
    if heatmaps.ndim < 3:
        raise ValueError(f'heatmaps must be (B, K, H, W) or (K, H, W), got {heatmaps.ndim}-d')
    batch = heatmaps.shape[0] if heatmaps.ndim == 4 else None
    table = check_flip_indices(flip_indices, heatmaps.shape[-3], batch)
    width = heatmaps.shape[-1]
    columns = np.arange(width - 1, -1, -1, dtype=np.int64)
    if shift and width > 1:
        # The mirrored column of each output column after the right shift:
        # column 0 and column 1 both hold mirrored column 0 (input W - 1).
        columns = np.concatenate([columns[:1], columns[:-1]])
    out = heatmaps[..., _index_like(heatmaps, columns)]
    return _swap_channels(out, table, axis=-3)


def flip_vectors(simcc_x: Any, simcc_y: Any, flip_indices: Sequence[int] | np.ndarray | Any
                 ) -> tuple[Any, Any]:
    """Undo a horizontal input flip on SimCC vectors (numpy or torch).

    The x bins are mirrored (bin ``i`` of ``Wx`` becomes ``Wx - 1 - i``) and
    both vectors get their channels swapped by ``flip_indices``; y bins do
    not move.

    Args:
        simcc_x: (B, K, Wx) (or (K, Wx)) x-bin vectors of the flipped input.
        simcc_y: (B, K, Wy) (or (K, Wy)) y-bin vectors of the flipped input.
        flip_indices: K ints shared by the batch, or a (B, K) table.

    Returns:
        ``(simcc_x, simcc_y)`` flipped, of the inputs' type and device.
    """
    if simcc_x.shape[:-1] != simcc_y.shape[:-1] or simcc_x.ndim not in (2, 3):
        raise ValueError(f'simcc_x {tuple(simcc_x.shape)} and simcc_y {tuple(simcc_y.shape)} '
                         'must both be (B, K, W) or (K, W) with the same B and K')
    batch = simcc_x.shape[0] if simcc_x.ndim == 3 else None
    table = check_flip_indices(flip_indices, simcc_x.shape[-2], batch)
    bins = np.arange(simcc_x.shape[-1] - 1, -1, -1, dtype=np.int64)
    mirrored = simcc_x[..., _index_like(simcc_x, bins)]
    return (_swap_channels(mirrored, table, axis=-2), _swap_channels(simcc_y, table, axis=-2))
