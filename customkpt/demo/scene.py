"""Scenes of the self5 dataset: backgrounds, occluders, placement and rendering.

1 to ``max_figures`` figures per image, 40-200 px tall (capped by the image
height), rotated by up to +-45 degrees, on a textured background (gradient,
smooth colour noise, rectangles, lines, blobs, limb-coloured clutter, pixel
noise). Some figures get an occluder (a box, ellipse or polygon) drawn in
front of them. Visibility is read from a per-pixel owner map drawn with the
image: ``v=2`` where the keypoint's pixel shows its own figure, ``v=1``
(labelled, not visible) where an occluder, another figure or the figure's
own head covers it, and unlabelled ``(0, 0, 0)`` when the point lies
outside the image.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ..core.boxes import box_iou
from .figure import KEYPOINT_NAMES, Colour, Figure, Palette, sample_pose

__all__ = ['SUBPIXEL', 'SUBPIXEL_SCALE', 'Instance', 'render_image', 'render_figures',
           'draw_figure',
           'draw_background', 'random_colour', 'shift_colour', 'annotate']

#: cv2 drawing shift: coordinates in 1/16 px.
SUBPIXEL = 4
SUBPIXEL_SCALE = float(1 << SUBPIXEL)


def _fx(p: np.ndarray) -> Tuple[int, int]:
    """A point in cv2's fixed-point coordinates."""
    return int(round(float(p[0]) * SUBPIXEL_SCALE)), int(round(float(p[1]) * SUBPIXEL_SCALE))


def _draw_prim(img: np.ndarray, prim: Tuple[Any, ...], colour: Any, grow: float,
               aa: bool = True) -> None:
    """Draw one primitive, ``grow`` px larger (outline / owner map)."""
    kind = prim[0]
    lt = cv2.LINE_AA if aa else cv2.LINE_8
    if kind == 'line':
        t = max(1, int(round(prim[3] + 2 * grow)))
        cv2.line(img, _fx(prim[1]), _fx(prim[2]), colour, t, lt, SUBPIXEL)
    elif kind == 'circle':
        cv2.circle(img, _fx(prim[1]), int(round((prim[2] + grow) * SUBPIXEL_SCALE)), colour, -1, lt,
                   SUBPIXEL)
    elif kind == 'poly':
        pts = np.array([_fx(q) for q in prim[1]], np.int32)
        cv2.fillPoly(img, [pts], colour, lt, SUBPIXEL)
        if grow > 0:
            cv2.polylines(img, [pts], True, colour, max(1, int(round(2 * grow))), lt, SUBPIXEL)


def shift_colour(c: Colour, f: float) -> Colour:
    """Lighter (``f > 0``) or darker (``f < 0``) by the fraction ``f``."""
    if f > 0:
        out = [v + (255 - v) * f for v in c]
    else:
        out = [v * (1 + f) for v in c]
    return tuple(min(255, max(0, int(round(v)))) for v in out)  # type: ignore[return-value]


def draw_figure(img: np.ndarray, owner: np.ndarray, owner_id: int, fig: Figure,
                 light: np.ndarray) -> None:
    """Draw a figure onto ``img`` and its pixels into ``owner``."""
    for group in fig.parts():
        solid = [q for q in group if q[0] != 'detail']
        for prim in solid:                                   # outline pass
            _draw_prim(img, prim, shift_colour(prim[-1], -0.55), 1.0)
        for prim in solid:                                   # fill + highlight
            _draw_prim(img, prim, prim[-1], 0.0)
            _draw_highlight(img, prim, light)
            _draw_prim(owner, prim, int(owner_id), 1.0, aa=False)
        for prim in group:
            if prim[0] == 'detail':
                _draw_prim(img, prim[1], prim[1][-1], 0.0)


def _draw_highlight(img: np.ndarray, prim: Tuple[Any, ...], light: np.ndarray) -> None:
    """A lighter stripe / spot towards the light on a thick line or circle."""
    kind = prim[0]
    if kind == 'line' and prim[3] >= 4.0:
        off = light * prim[3] * 0.22
        _draw_prim(img, ('line', prim[1] + off, prim[2] + off, prim[3] * 0.3, None),
                   shift_colour(prim[-1], 0.3), 0.0)
    elif kind == 'circle' and prim[2] >= 3.0:
        _draw_prim(img, ('circle', prim[1] + light * prim[2] * 0.4, prim[2] * 0.3, None),
                   shift_colour(prim[-1], 0.3), 0.0)


@lru_cache(maxsize=8)
def _grid(w: int, h: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate grids (read-only)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy.setflags(write=False)
    xx.setflags(write=False)
    return xx, yy


def random_colour(rng: np.random.Generator) -> Colour:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def draw_background(rng: np.random.Generator, w: int, h: int,
                lookalikes: Sequence[Colour]) -> np.ndarray:
    """A textured, cluttered background, uint8 (h, w, 3) BGR.

    A two-colour gradient, smooth colour noise, an optional stripe texture,
    rectangles, lines and blobs, and limb- / hand-like clutter in the
    figures' own colours (``lookalikes``).
    """
    xx, yy = _grid(w, h)
    theta = rng.uniform(0, 2 * math.pi)
    t = xx * math.cos(theta) + yy * math.sin(theta)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    c0 = rng.uniform(0, 255, 3).astype(np.float32)
    c1 = rng.uniform(0, 255, 3).astype(np.float32)
    img = c0[None, None] + t[..., None] * (c1 - c0)[None, None]
    gh, gw = int(rng.integers(2, 7)), int(rng.integers(2, 9))
    coarse = rng.normal(0.0, 1.0, (gh, gw, 3)).astype(np.float32)
    coarse_gain = np.float32(rng.uniform(8, 35))
    img += cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC) * coarse_gain
    if rng.random() < 0.35:                                  # stripes
        period = rng.uniform(6, 30)
        phi = rng.uniform(0, 2 * math.pi)
        wave = np.sin((xx * math.cos(phi) + yy * math.sin(phi)) * (2 * math.pi / period))
        img += (wave * np.float32(rng.uniform(5, 20)))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)

    scale = max(w, h)
    for _ in range(int(rng.integers(0, 6))):                 # rectangles
        x0, y0 = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.1, 1.0) * h
        rw, rh = rng.uniform(0.05, 0.4) * scale, rng.uniform(0.05, 0.4) * scale
        cv2.rectangle(img, (int(x0), int(y0)), (int(x0 + rw), int(y0 + rh)),
                      random_colour(rng), -1 if rng.random() < 0.7 else int(rng.integers(1, 4)))
    for _ in range(int(rng.integers(2, 10))):                # lines
        a = rng.uniform(0, 1, 2) * (w, h)
        b = rng.uniform(0, 1, 2) * (w, h)
        cv2.line(img, _fx(a), _fx(b), random_colour(rng), int(rng.integers(1, 4)),
                 cv2.LINE_AA, SUBPIXEL)
    for _ in range(int(rng.integers(0, 6))):                 # blobs
        c = rng.uniform(0, 1, 2) * (w, h)
        axes = (int(rng.uniform(0.02, 0.15) * scale), int(rng.uniform(0.02, 0.15) * scale))
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, float(rng.uniform(0, 180)), 0, 360,
                    random_colour(rng), -1, cv2.LINE_AA)
    if lookalikes:                                           # limb-like clutter
        for _ in range(int(rng.integers(1, 6))):
            colour = lookalikes[int(rng.integers(len(lookalikes)))]
            a = rng.uniform(0, 1, 2) * (w, h)
            length = rng.uniform(0.05, 0.2) * scale
            d = rng.uniform(0, 2 * math.pi)
            b = a + length * np.array([math.cos(d), math.sin(d)])
            thick = int(rng.uniform(2, 0.04 * scale + 3))
            cv2.line(img, _fx(a), _fx(b), shift_colour(colour, -0.55), thick + 2,
                     cv2.LINE_AA, SUBPIXEL)
            cv2.line(img, _fx(a), _fx(b), colour, thick, cv2.LINE_AA, SUBPIXEL)
            if rng.random() < 0.5:
                cv2.circle(img, _fx(b), int(thick * 0.8 * SUBPIXEL_SCALE), colour, -1, cv2.LINE_AA,
                           SUBPIXEL)
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 1.2)))
    return img


def _draw_occluder(rng: np.random.Generator, img: np.ndarray, owner: np.ndarray,
                   fig: Figure, owner_id: int) -> None:
    """A box, ellipse or polygon drawn in front of part of ``fig``."""
    pts = fig.image_joints()
    names = sorted(pts)                        # fixed order, never set/dict order
    anchor = pts[names[int(rng.integers(len(names)))]] + rng.normal(0, 0.06, 2) * fig.height
    size = rng.uniform(0.12, 0.32) * fig.height
    kind = int(rng.integers(3))
    mask = np.zeros(owner.shape, np.uint8)
    if kind == 0:
        bw, bh = float(size * rng.uniform(0.5, 1.5)), float(size * rng.uniform(0.5, 1.5))
        box = cv2.boxPoints(((float(anchor[0]), float(anchor[1])), (bw, bh),
                             float(rng.uniform(0, 90))))
        poly = np.round(box * SUBPIXEL_SCALE).astype(np.int32)
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, SUBPIXEL)
    elif kind == 1:
        ax0 = max(2, int(size * rng.uniform(0.3, 0.7)))
        axes = (ax0, max(2, int(size * rng.uniform(0.3, 0.7))))
        cv2.ellipse(mask, (int(anchor[0]), int(anchor[1])), axes, float(rng.uniform(0, 180)),
                    0, 360, 255, -1, cv2.LINE_8)
    else:
        n = int(rng.integers(5, 9))
        ang = np.sort(rng.uniform(0, 2 * math.pi, n))
        rad = size * rng.uniform(0.3, 0.7, n)
        poly = anchor + np.stack([np.cos(ang) * rad, np.sin(ang) * rad], 1)
        cv2.fillPoly(mask, [np.round(poly * SUBPIXEL_SCALE).astype(np.int32)], 255, cv2.LINE_8,
                     SUBPIXEL)
    on = mask > 0
    if not on.any():
        return
    xx, yy = _grid(img.shape[1], img.shape[0])
    base = np.asarray(random_colour(rng), np.float32)
    ramp = (xx[on] * rng.uniform(-1, 1) + yy[on] * rng.uniform(-1, 1)) * rng.uniform(0.2, 1.0)
    texture = base[None] + (ramp - ramp.mean())[:, None] + rng.normal(0, 6, (int(on.sum()), 1))
    img[on] = np.clip(texture, 0, 255).astype(np.uint8)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    img[edge & on] = (img[edge & on] * 0.5).astype(np.uint8)
    owner[on] = owner_id


@dataclass
class Instance:
    """One annotated figure of a rendered image.

    Attributes:
        figure: the figure.
        keypoints: float (5, 3) COCO triples: ``v=2`` visible, ``v=1``
            covered, ``(0, 0, 0)`` outside the image.
        true_keypoints: float (5, 2) positions, also where unlabelled.
        bbox: float (4,) ``[x, y, w, h]``, inside the image.
        track_id: the video track (0 outside videos).
    """

    figure: Figure
    keypoints: np.ndarray
    true_keypoints: np.ndarray
    bbox: np.ndarray
    track_id: int = 0

    @property
    def num_keypoints(self) -> int:
        """How many points are labelled (``v > 0``)."""
        return int((self.keypoints[:, 2] > 0).sum())


def annotate(figures: Sequence[Figure], owner: np.ndarray,
              track_ids: Optional[Sequence[int]] = None) -> List[Instance]:
    """Keypoint triples and boxes from the owner map (figure k owns value k+1)."""
    h, w = owner.shape
    out = []
    for k, fig in enumerate(figures):
        pts = fig.keypoints()
        kps = np.zeros((len(KEYPOINT_NAMES), 3))
        for i, (x, y) in enumerate(pts):
            if 0.0 <= x < w and 0.0 <= y < h:
                v = 2.0 if owner[int(y), int(x)] == k + 1 else 1.0
                kps[i] = (x, y, v)
        x0, y0, x1, y1 = fig.box((w, h))
        out.append(Instance(fig, kps, pts, np.array([x0, y0, x1 - x0, y1 - y0]),
                            int(track_ids[k]) if track_ids is not None else 0))
    return out


def _place_figures(rng: np.random.Generator, w: int, h: int, max_figures: int,
                   figure_height: Tuple[float, float], max_rotation: float,
                   max_iou: float = 0.3) -> List[Figure]:
    """Figures that lie mostly inside the image and overlap little."""
    lo, hi = figure_height
    hi = min(hi, 0.95 * h)
    lo = min(lo, hi)
    placed: List[Figure] = []
    boxes: List[np.ndarray] = []
    for _ in range(int(rng.integers(1, max_figures + 1))):
        height = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        pose = sample_pose(rng)
        angle = float(rng.uniform(-max_rotation, max_rotation))
        palette = Palette.random(rng)
        back = 1 if rng.random() < 0.5 else -1
        for _try in range(30):
            centre = (float(rng.uniform(0.05, 0.95) * w), float(rng.uniform(0.05, 0.95) * h))
            fig = Figure(pose, centre, height, angle, palette, back)
            box = fig.extent()
            clipped = np.array([max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)])
            full = (box[2] - box[0]) * (box[3] - box[1])
            inside = max(0.0, clipped[2] - clipped[0]) * max(0.0, clipped[3] - clipped[1])
            kp = fig.keypoints()
            n_in = int(((kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)).sum())
            if inside < 0.6 * full or n_in < 4:
                continue
            if boxes and box_iou(box[None], np.stack(boxes)).max() > max_iou:
                continue
            placed.append(fig)
            boxes.append(box)
            break
    # far (small, high) figures first, near ones drawn over them
    order = sorted(range(len(placed)), key=lambda i: (placed[i].height, boxes[i][3], i))
    return [placed[i] for i in order]


def render_image(rng: np.random.Generator, image_size: Tuple[int, int] = (320, 240), *,
                 max_figures: int = 4, figure_height: Tuple[float, float] = (40.0, 200.0),
                 max_rotation: float = 45.0, occlusion_prob: float = 0.35
                 ) -> Tuple[np.ndarray, List[Instance]]:
    """Draw one image of the dataset.

    Args:
        rng: the random generator (everything is drawn from it).
        image_size: (w, h).
        max_figures: 1 to this many figures.
        figure_height: (min, max) figure height in pixels; the max is capped
            at 95% of the image height.
        max_rotation: figures are rotated uniformly within +- this, degrees.
        occlusion_prob: chance that a figure gets an occluder in front.

    Returns:
        uint8 (h, w, 3) BGR image and its instances (in drawing order).
    """
    w, h = int(image_size[0]), int(image_size[1])
    figures = _place_figures(rng, w, h, max_figures, figure_height, max_rotation)
    return render_figures(rng, (w, h), figures, occlusion_prob)


def render_figures(rng: np.random.Generator, image_size: Tuple[int, int],
                   figures: Sequence[Figure], occlusion_prob: float = 0.35,
                   track_ids: Optional[Sequence[int]] = None
                   ) -> Tuple[np.ndarray, List[Instance]]:
    """Draw placed figures in order (later ones in front) on a random
    background, each with an occluder at ``occlusion_prob``, plus pixel noise.

    Returns:
        uint8 (h, w, 3) BGR image and one instance per figure, in order
        (with ``track_ids`` when given).
    """
    w, h = int(image_size[0]), int(image_size[1])
    lookalikes = [c for f in figures for c in f.palette.colours()]
    img = draw_background(rng, w, h, lookalikes)
    owner = np.zeros((h, w), np.uint8)
    ang = rng.uniform(0, 2 * math.pi)
    light = np.array([math.cos(ang), math.sin(ang)])
    for k, fig in enumerate(figures):
        draw_figure(img, owner, k + 1, fig, light)
        if rng.random() < occlusion_prob:
            _draw_occluder(rng, img, owner, fig, 255)
    sigma = rng.uniform(0.0, 5.0)
    if sigma > 0.5:
        noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return img, annotate(figures, owner, track_ids)
