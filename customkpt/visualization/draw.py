"""Drawing keypoints, skeletons, boxes and heatmaps on BGR images.

Every function here is pure: it takes a BGR ``uint8`` image (as
``cv2.imread`` returns it) and returns a new image, leaving the input
unchanged. The keypoint definition comes from a metainfo dict (see
``docs/architecture.md``): ``skeleton`` gives the links, ``keypoint_colors``
and ``skeleton_colors`` their RGB colours, ``keypoint_names`` the labels, so
nothing here depends on the number of keypoints.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ..meta import KeypointMeta, palette
from .labels import place_labels

#: BGR colour of instance boxes.
BBOX_COLOR = (0, 200, 0)
#: BGR colour of the dark outline around points and text.
OUTLINE_COLOR = (0, 0, 0)


def as_meta_dict(meta: Mapping[str, Any] | KeypointMeta) -> dict:
    """The metainfo dict of ``meta`` (a dict or a :class:`KeypointMeta`)."""
    if isinstance(meta, KeypointMeta):
        return meta.to_dict()
    if not isinstance(meta, Mapping):
        raise TypeError(f'meta must be a metainfo dict or a KeypointMeta, got {type(meta)}')
    return dict(meta)


def default_radius(shape: Sequence[int]) -> int:
    """Point radius in pixels for an image of ``shape`` (h, w, ...): about
    0.7% of the longer side, at least 2."""
    return max(2, int(round(max(shape[0], shape[1]) * 0.007)))


def default_thickness(shape: Sequence[int]) -> int:
    """Link thickness in pixels for an image of ``shape``: about 0.4% of
    the longer side, at least 1."""
    return max(1, int(round(max(shape[0], shape[1]) * 0.004)))


def _bgr(rgb: Sequence[Any]) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in list(rgb)[:3])
    return (b, g, r)


def _colours(meta: Mapping[str, Any], key: str, count: int, offset: float) -> list[tuple]:
    """``count`` BGR colours from ``meta[key]`` (RGB), or a palette when the
    meta has none."""
    colours = meta.get(key)
    if colours is None:
        colours = palette(count, offset=offset)
    colours = list(colours)
    if len(colours) != count:
        raise ValueError(f'meta {key} has {len(colours)} colours, expected {count}')
    return [_bgr(c) for c in colours]


def _check_image(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected a (h, w, 3) BGR image, got shape {img.shape}')
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img).copy()


def draw_text(img: np.ndarray, text: str, org: tuple[int, int],
              color: tuple[int, int, int] = (255, 255, 255), scale: float | None = None,
              thickness: int = 1) -> np.ndarray:
    """Draw ``text`` at ``org`` (bottom-left, pixels) with a dark outline,
    in place; returns ``img``."""
    if scale is None:
        scale = max(0.3, max(img.shape[:2]) / 1200)
    org = (int(org[0]), int(org[1]))
    # Outline: the text shifted by one pixel each way (a thicker stroke would
    # also widen the glyph advance, so the outline would drift off the text).
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                cv2.putText(img, text, (org[0] + dx, org[1] + dy), cv2.FONT_HERSHEY_SIMPLEX,
                            scale, OUTLINE_COLOR, thickness, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness,
                cv2.LINE_AA)
    return img


def draw_instances(img: np.ndarray,
                   keypoints: np.ndarray,
                   visible_or_scores: np.ndarray | None,
                   meta: Mapping[str, Any] | KeypointMeta,
                   score_thr: float = 0.3,
                   radius: int | None = None,
                   thickness: int | None = None,
                   show_names: bool = False,
                   bboxes: np.ndarray | None = None) -> np.ndarray:
    """Draw the skeleton and points of N instances.

    Links (``meta['skeleton']``, coloured by ``meta['skeleton_colors']``) are
    drawn first, then the names (if asked, white on a dark outline), then the points
    (``meta['keypoint_colors']``), so the centre pixel of each drawn point has
    exactly its keypoint colour. A point is drawn when its visibility/score
    is above ``score_thr`` and its coordinates are finite; a link when both of
    its ends are drawn.

    Args:
        img: (h, w, 3) BGR uint8 image; not modified.
        keypoints: (N, K, 2) (or (K, 2)) pixel coordinates.
        visible_or_scores: (N, K) visibility flags (0/1) or scores, or None
            to draw every point.
        meta: the metainfo dict (or :class:`KeypointMeta`).
        score_thr: points with a value ``<= score_thr`` are skipped.
        radius: point radius in pixels; scaled with the image by default.
        thickness: link thickness in pixels; scaled with the image by default.
        show_names: write each point's name beside it.
        bboxes: optional (N, 4) xyxy boxes to draw.

    Returns:
        A new BGR uint8 image.

    Raises:
        ValueError: if K differs from the meta's number of keypoints, or the
            shapes disagree.
    """
    out = _check_image(img)
    meta = as_meta_dict(meta)
    names = list(meta.get('keypoint_names') or [])
    kpts, vis = _instances(keypoints, visible_or_scores, names)
    shown = (vis > score_thr) & np.isfinite(kpts).all(axis=-1)
    radius = default_radius(out.shape) if radius is None else int(radius)
    thickness = default_thickness(out.shape) if thickness is None else int(thickness)
    skeleton = [tuple(int(i) for i in link) for link in (meta.get('skeleton') or [])]
    link_colours = _colours(meta, 'skeleton_colors', len(skeleton), 0.3)
    point_colours = _colours(meta, 'keypoint_colors', kpts.shape[1], 0.0)
    if bboxes is not None:
        _draw_boxes(out, bboxes, thickness)
    _draw_links(out, kpts, shown, skeleton, link_colours, thickness)
    if show_names and names:
        _draw_names(out, kpts, shown, names, radius)
    _draw_points(out, kpts, shown, point_colours, radius)
    return out


def _instances(keypoints: np.ndarray, visible_or_scores: np.ndarray | None,
               names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Checked (N, K, 2) float64 keypoints and (N, K) visibility/scores (ones
    when ``None``)."""
    kpts = np.asarray(keypoints, dtype=np.float64)
    if kpts.ndim == 2:
        kpts = kpts[None]
    if kpts.ndim != 3 or kpts.shape[-1] < 2:
        raise ValueError(f'keypoints must be (N, K, 2), got shape {np.shape(keypoints)}')
    kpts = kpts[..., :2]
    n, k = kpts.shape[:2]
    if names and len(names) != k:
        raise ValueError(f'keypoints have K={k} points but the meta defines {len(names)} '
                         f'({list(names)})')
    if visible_or_scores is None:
        return kpts, np.ones((n, k), dtype=np.float64)
    if np.size(visible_or_scores) != n * k:
        raise ValueError(f'visible_or_scores must be ({n}, {k}), got shape '
                         f'{np.shape(visible_or_scores)}')
    return kpts, np.asarray(visible_or_scores, dtype=np.float64).reshape(n, k)


def _pt(p: np.ndarray) -> tuple[int, int]:
    """A point rounded to whole pixels."""
    return int(round(p[0])), int(round(p[1]))


def _draw_boxes(out: np.ndarray, bboxes: np.ndarray, thickness: int) -> None:
    """(N, 4) xyxy boxes, in place; boxes with a non-finite corner are skipped."""
    for box in np.asarray(bboxes, dtype=np.float64).reshape(-1, 4):
        if np.isfinite(box).all():
            cv2.rectangle(out, (int(round(box[0])), int(round(box[1]))),
                          (int(round(box[2])), int(round(box[3]))), BBOX_COLOR,
                          thickness, cv2.LINE_AA)


def _draw_links(out: np.ndarray, kpts: np.ndarray, shown: np.ndarray,
                skeleton: Sequence[tuple[int, ...]], colours: Sequence[tuple],
                thickness: int) -> None:
    """The skeleton links whose two ends are shown, in place."""
    k = kpts.shape[1]
    for i in range(kpts.shape[0]):
        for (a, b), colour in zip(skeleton, colours):
            if a < k and b < k and shown[i, a] and shown[i, b]:
                cv2.line(out, _pt(kpts[i, a]), _pt(kpts[i, b]), colour, thickness, cv2.LINE_AA)


def _draw_names(out: np.ndarray, kpts: np.ndarray, shown: np.ndarray, names: Sequence[str],
                radius: int) -> None:
    """Each shown point's name beside it, in place, placed by
    :func:`~customkpt.visualization.labels.place_labels` so that the names
    stay inside the image and apart from each other."""
    scale = max(0.3, radius / 7)
    where = np.argwhere(shown)
    if len(where) == 0:
        return
    texts = [names[j] for _, j in where]
    metrics = [cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, scale, 1) for t in texts]
    # The one-pixel outline of draw_text widens each label by 2 pixels.
    sizes = np.array([(w + 2, h + base + 2) for (w, h), base in metrics], dtype=np.float64)
    boxes = place_labels(kpts[where[:, 0], where[:, 1]], sizes,
                         (out.shape[1], out.shape[0]), gap=radius + 2,
                         point_radius=radius + 1)
    for text, ((_, h), _), box in zip(texts, metrics, boxes):
        x1, y1 = int(np.floor(box[0])), int(np.floor(box[1]))
        draw_text(out, text, (x1 + 1, y1 + 1 + h), scale=scale)


def _draw_points(out: np.ndarray, kpts: np.ndarray, shown: np.ndarray,
                 colours: Sequence[tuple], radius: int) -> None:
    """The shown points (outlined discs with the exact colour at the centre), in place."""
    for i in range(kpts.shape[0]):
        for j in np.flatnonzero(shown[i]):
            centre = _pt(kpts[i, j])
            cv2.circle(out, centre, radius + 1, OUTLINE_COLOR, -1, cv2.LINE_AA)
            cv2.circle(out, centre, radius, colours[j], -1, cv2.LINE_AA)
            # Anti-aliasing blends the rim; make sure the centre is exact.
            if 0 <= centre[1] < out.shape[0] and 0 <= centre[0] < out.shape[1]:
                out[centre[1], centre[0]] = colours[j]


def heatmap_overlay(img: np.ndarray, heatmaps: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend the per-pixel maximum of (K, H, W) heatmaps, resized to the image
    and coloured with the JET map, over a BGR image.

    Args:
        img: (h, w, 3) BGR uint8 image; not modified.
        heatmaps: (K, H, W) (or (H, W)) float maps, any value range.
        alpha: weight of the heatmap colour where the heatmap is at its peak
            (the overlay fades out where the maps are near zero).

    Returns:
        A new BGR uint8 image.
    """
    out = _check_image(img)
    maps = np.asarray(heatmaps, dtype=np.float32)
    if maps.ndim == 2:
        maps = maps[None]
    if maps.ndim != 3 or maps.shape[0] == 0:
        raise ValueError(f'heatmaps must be (K, H, W), got shape {maps.shape}')
    peak = np.nan_to_num(maps).max(axis=0)
    lo, hi = float(peak.min()), float(peak.max())
    norm = (peak - lo) / (hi - lo) if hi > lo else np.zeros_like(peak)
    norm = cv2.resize(norm, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_LINEAR)
    colour = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)
    weight = (alpha * np.clip(norm, 0, 1))[..., None]
    return (out * (1 - weight) + colour * weight).astype(np.uint8)


def put_title(img: np.ndarray, title: str) -> np.ndarray:
    """A copy of ``img`` with ``title`` written in its top-left corner, on a
    darkened band so that it stays readable on any background."""
    out = _check_image(img)
    scale = max(0.35, max(out.shape[:2]) / 1000)
    (width, height), base = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x1, y1 = min(out.shape[1], width + 8), min(out.shape[0], height + base + 8)
    out[:y1, :x1] = (out[:y1, :x1] * 0.35).astype(np.uint8)
    return draw_text(out, title, (4, height + 4), scale=scale)


def hstack_images(images: Sequence[np.ndarray], gap: int = 4,
                  fill: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Place BGR images side by side (top-aligned, padded to the tallest),
    separated by ``gap`` pixels of ``fill``."""
    images = [_check_image(im) for im in images]
    if not images:
        raise ValueError('no images to stack')
    height = max(im.shape[0] for im in images)
    width = sum(im.shape[1] for im in images) + gap * (len(images) - 1)
    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = fill
    x = 0
    for im in images:
        canvas[:im.shape[0], x:x + im.shape[1]] = im
        x += im.shape[1] + gap
    return canvas

