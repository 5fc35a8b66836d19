"""The synthetic ``self5`` dataset: articulated stick figures with 5 keypoints.

Nothing is downloaded: :func:`make_self5_dataset` draws every image. The
dataset is the embedded default of the main job (train, evaluate, smooth a
video), so it is sized to be learnt by a small HRNet on a CPU in minutes.

The figures
-----------
Each figure has a torso, a head (hair on top, a face with two eyes and a
mouth), two arms with elbows and hands, and two legs with knees and shoes,
drawn with thick anti-aliased, outlined and shaded limbs. Every figure
**faces the camera**, so, as for people, its *left* side is on the image's
*right* when it stands upright; the whole figure is rotated by up to
``max_rotation`` degrees, and its left side turns with it. Colours are
random per figure but the same for both sides, so left and right can only be
told apart by geometry (where the face is, which side of the body a limb
hangs from). That keeps horizontal-flip augmentation consistent: a mirrored
figure is still a figure facing the camera, and swapping the flip pairs
gives it correct labels.

Guarantee (checked by the tests): in the figure's own frame (origin at the
pelvis, x towards the figure's left, y down, unit = figure height) each
hand and each foot lies at least :data:`SIDE_MARGIN` on its own side of the
body's vertical axis; arms and legs never cross the midline.

The five keypoints (0-based): ``head`` (the head's centre), ``left_hand``,
``right_hand``, ``left_foot``, ``right_foot`` (the ankle, at the shoe's
centre). Flip pairs ``[[1, 2], [3, 4]]``; skeleton: the head joined to each
hand and foot.

Images and labels
-----------------
1 to ``max_figures`` figures per image, 40-200 px tall (capped by the image
height), rotated by up to +-45 degrees, on a textured background (gradient,
smooth colour noise, rectangles, lines, blobs, limb-coloured clutter, pixel
noise). Some figures get an occluder (a box, ellipse or polygon) drawn in
front of them. Visibility is read from a per-pixel owner map drawn with the
image: ``v=2`` where the keypoint's pixel shows its own figure, ``v=1``
(labelled, not visible) where an occluder, another figure or the figure's
own head covers it, and unlabelled ``(0, 0, 0)`` when the point lies
outside the image.

Files (the tutorial layout)
---------------------------
``out_dir/``

* ``train_coco_joint.json``, ``val_coco_joint.json``: COCO keypoint files;
  ``file_name`` is relative to ``images/`` (configs use
  ``data_prefix=dict(img='images/')``). ``bbox`` is ``[x, y, w, h]``: the
  figure's drawn extent padded by 4% of its height, clipped to the image, on
  whole pixels; ``area`` is the box area; the category carries ``keypoints``,
  a 1-based ``skeleton`` (COCO) and a 0-based ``flip_pairs`` (customkpt's
  extension).
* ``images/train_000001.jpg`` ...: JPEG, quality :data:`JPEG_QUALITY`.
* ``video/self5_video.mp4``: ``video_frames`` frames (``mp4v``) of a figure
  walking across and a smaller one waving, over a static background with a
  post in front; ``video/frames/000000.jpg`` ...: the same frames as JPEG.
* ``video/self5_video_gt.json``: per-frame ground truth: ``frames[i]`` is
  ``{'frame_id', 'file_name', 'instances': [{'track_id', 'keypoints' (5 x
  [x, y, v]), 'bbox' [x, y, w, h]}]}``; here ``x, y`` are the true positions
  even where ``v < 2`` (smooth tracks to measure jitter against).
* ``video_coco_joint.json``: the frames as a COCO keypoint file; its
  ``file_name`` (``video/frames/000000.jpg``) is relative to ``out_dir``
  (``data_prefix=dict(img='')``); images carry ``frame_id`` (0-based) and
  ``video_id``, annotations ``track_id``.
* ``manifest.json``: the generation parameters and counts, written last;
  :func:`make_self5_dataset` returns at once when it matches.

Determinism: each image draws from its own ``numpy.random.Generator`` seeded
by ``(seed, split, index)``, so the same seed gives byte-identical json and
images (and image ``i`` does not depend on how many images are made);
nothing depends on time or on set ordering.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    'KEYPOINT_NAMES', 'FLIP_PAIRS', 'SKELETON', 'SIGMAS', 'SELF5_META', 'SIDE_MARGIN',
    'Pose', 'Palette', 'Figure', 'Instance', 'sample_pose', 'render_image',
    'render_video_frame', 'video_figures', 'make_self5_dataset', 'build_self5_dataset',
    'BuildResult', 'read_manifest',
]

#: Keypoint names, in order.
KEYPOINT_NAMES: Tuple[str, ...] = ('head', 'left_hand', 'right_hand', 'left_foot', 'right_foot')
#: 0-based flip pairs.
FLIP_PAIRS: Tuple[Tuple[int, int], ...] = ((1, 2), (3, 4))
#: 0-based skeleton: the head joined to each hand and foot.
SKELETON: Tuple[Tuple[int, int], ...] = ((0, 1), (0, 2), (0, 3), (0, 4))
#: OKS sigmas (head ~ COCO nose, hands ~ wrists, feet ~ ankles).
SIGMAS: Tuple[float, ...] = (0.026, 0.062, 0.062, 0.089, 0.089)

#: The definition as a config ``metainfo`` dict (every key is one
#: :class:`customkpt.meta.KeypointMeta` accepts). Copy before changing it.
SELF5_META: Dict[str, Any] = dict(
    dataset_name='self5',
    num_joints=len(KEYPOINT_NAMES),
    keypoint_names=list(KEYPOINT_NAMES),
    flip_pairs=[list(p) for p in FLIP_PAIRS],
    skeleton=[list(p) for p in SKELETON],
    sigmas=list(SIGMAS),
    upper_body_ids=[0, 1, 2],
    lower_body_ids=[3, 4],
)

#: Bumped whenever the drawing or the file layout changes, so that a cached
#: dataset made by an older generator is rebuilt.
GENERATOR_VERSION = 1
#: JPEG quality of every written image.
JPEG_QUALITY = 92
#: Minimum distance (in figure heights) of each hand and foot from the body's
#: vertical axis, on its own side, in the figure's frame.
SIDE_MARGIN = 0.06

_SPLIT_CODES = {'train': 0, 'val': 1, 'video': 2}
_SUBPIXEL = 4                       # cv2 drawing shift: coordinates in 1/16 px
_SCALE = float(1 << _SUBPIXEL)

# Body proportions, in figure heights (standing: head top -0.5, soles +0.47).
_TORSO = 0.30          # pelvis -> neck
_NECK = 0.05           # neck -> bottom of the head
_HEAD_R = 0.075
_SHOULDER = 0.09       # half the shoulder width
_SHOULDER_DROP = 0.025
_UPPER_ARM = 0.16
_FOREARM = 0.15
_HIP = 0.055           # half the hip width
_THIGH = 0.23
_SHIN = 0.22
_LIMB_T = 0.055        # limb thickness
_HAND_R = 0.032
_SHOE_R = 0.038
_BOX_PAD = 0.04        # bbox padding, in figure heights

Colour = Tuple[int, int, int]


# --------------------------------------------------------------------- poses
def _rot(deg: float) -> np.ndarray:
    """2x2 rotation by ``deg`` degrees (y down: positive turns +x towards +y)."""
    r = math.radians(deg)
    c, s = math.cos(r), math.sin(r)
    return np.array([[c, -s], [s, c]])


def _limb_dir(side: float, deg: float) -> np.ndarray:
    """Unit vector ``deg`` degrees away from straight down, outwards on
    ``side`` (+1 the figure's left, -1 its right)."""
    r = math.radians(deg)
    return np.array([side * math.sin(r), math.cos(r)])


def _arm(lean: float, side: float, arm: float, elbow: float) -> Tuple[np.ndarray, ...]:
    """Shoulder, elbow and hand of one arm in the figure's frame."""
    torso = _rot(lean)
    neck = torso @ np.array([0.0, -_TORSO])
    shoulder = neck + torso @ np.array([side * _SHOULDER, _SHOULDER_DROP])
    elbow_pt = shoulder + _UPPER_ARM * (torso @ _limb_dir(side, arm))
    hand = elbow_pt + _FOREARM * (torso @ _limb_dir(side, arm + elbow))
    return shoulder, elbow_pt, hand


def _leg(side: float, leg: float, knee: float) -> Tuple[np.ndarray, ...]:
    """Hip, knee and foot of one leg in the figure's frame."""
    hip = np.array([side * _HIP, 0.0])
    knee_pt = hip + _THIGH * _limb_dir(side, leg)
    foot = knee_pt + _SHIN * _limb_dir(side, leg + knee)
    return hip, knee_pt, foot


@dataclass(frozen=True)
class Pose:
    """A figure's pose, in degrees.

    Limb angles are measured from straight down, positive outwards (away from
    the body's midline, on the limb's own side); ``*_elbow`` / ``*_knee`` are
    added to the upper segment's angle for the lower one. ``lean`` turns the
    torso, arms and head about the pelvis (positive: clockwise on screen),
    ``head_tilt`` the head about the neck.
    """

    lean: float = 0.0
    head_tilt: float = 0.0
    left_arm: float = 20.0
    left_elbow: float = 10.0
    right_arm: float = 20.0
    right_elbow: float = 10.0
    left_leg: float = 8.0
    left_knee: float = 4.0
    right_leg: float = 8.0
    right_knee: float = 4.0

    def joints(self) -> Dict[str, np.ndarray]:
        """Every joint in the figure's frame.

        Returns:
            name -> float (2,) array: ``pelvis``, ``neck``, ``head``,
            ``{left,right}_{shoulder,elbow,hand,hip,knee,foot}``. Origin at
            the pelvis, x towards the figure's left, y down, unit = height.
        """
        torso = _rot(self.lean)
        neck = torso @ np.array([0.0, -_TORSO])
        head = neck + (_NECK + _HEAD_R) * (_rot(self.lean + self.head_tilt) @ np.array([0.0, -1.0]))
        out = {'pelvis': np.zeros(2), 'neck': neck, 'head': head}
        for side, name in ((1.0, 'left'), (-1.0, 'right')):
            arm, elbow = getattr(self, f'{name}_arm'), getattr(self, f'{name}_elbow')
            leg, knee = getattr(self, f'{name}_leg'), getattr(self, f'{name}_knee')
            out[f'{name}_shoulder'], out[f'{name}_elbow'], out[f'{name}_hand'] = \
                _arm(self.lean, side, arm, elbow)
            out[f'{name}_hip'], out[f'{name}_knee'], out[f'{name}_foot'] = _leg(side, leg, knee)
        return out

    def keypoints(self) -> np.ndarray:
        """The five keypoints in the figure's frame, float (5, 2)."""
        j = self.joints()
        return np.stack([j[n] for n in KEYPOINT_NAMES])


def sample_pose(rng: np.random.Generator) -> Pose:
    """A random pose that keeps every hand and foot on its own side.

    Each side is drawn until its hand (foot) lies at least
    :data:`SIDE_MARGIN` from the midline (rejection sampling, at most 50
    draws, then a relaxed default). Arms mix relaxed poses with raised,
    bent and waving ones; legs stand, step out and bend.

    Args:
        rng: the random generator.

    Returns:
        The pose.
    """
    lean = float(rng.uniform(-12.0, 12.0))
    tilt = float(rng.uniform(-15.0, 15.0))
    params: Dict[str, float] = dict(lean=lean, head_tilt=tilt)
    for side, name in ((1.0, 'left'), (-1.0, 'right')):
        arm, elbow = 20.0, 10.0
        for _ in range(50):
            if rng.random() < 0.35:
                a, e = rng.uniform(0.0, 45.0), rng.uniform(-15.0, 45.0)
            else:
                a, e = rng.uniform(-15.0, 170.0), rng.uniform(-45.0, 120.0)
            if side * _arm(lean, side, a, e)[2][0] >= SIDE_MARGIN:
                arm, elbow = float(a), float(e)
                break
        leg, knee = 8.0, 4.0
        for _ in range(50):
            g, k = rng.uniform(2.0, 38.0), rng.uniform(-20.0, 35.0)
            if side * _leg(side, g, k)[2][0] >= SIDE_MARGIN:
                leg, knee = float(g), float(k)
                break
        params.update({f'{name}_arm': arm, f'{name}_elbow': elbow,
                       f'{name}_leg': leg, f'{name}_knee': knee})
    return Pose(**params)


# ------------------------------------------------------------------ figures
def _bgr(h: float, s: float, v: float) -> Colour:
    """HSV (OpenCV ranges: h in [0, 180), s, v in [0, 255]) -> BGR ints."""
    px = np.array([[[h, s, v]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


_SKIN_TONES = ((189, 214, 250), (150, 190, 235), (110, 155, 205), (80, 120, 170), (55, 85, 125))


@dataclass(frozen=True)
class Palette:
    """A figure's colours (BGR)."""

    skin: Colour
    shirt: Colour
    trousers: Colour
    hair: Colour
    shoes: Colour
    accent: Colour

    @staticmethod
    def random(rng: np.random.Generator) -> 'Palette':
        """Random clothes, skin tone and hair.

        Args:
            rng: the random generator.

        Returns:
            The palette.
        """
        tone = np.array(_SKIN_TONES[int(rng.integers(len(_SKIN_TONES)))], float)
        skin = tuple(int(c) for c in np.clip(tone + rng.uniform(-15, 15, 3), 0, 255))

        def cloth() -> Colour:
            return _bgr(rng.uniform(0, 180), rng.uniform(70, 255), rng.uniform(70, 250))

        return Palette(skin=skin, shirt=cloth(), trousers=cloth(),  # type: ignore[arg-type]
                       hair=_bgr(rng.uniform(0, 180), rng.uniform(0, 200), rng.uniform(15, 90)),
                       shoes=_bgr(rng.uniform(0, 180), rng.uniform(0, 150), rng.uniform(10, 80)),
                       accent=_bgr(rng.uniform(0, 180), rng.uniform(120, 255),
                                   rng.uniform(170, 255)))

    def colours(self) -> List[Colour]:
        """The clothing and skin colours (for look-alike clutter)."""
        return [self.skin, self.shirt, self.trousers]


@dataclass(frozen=True)
class Figure:
    """A posed figure placed in an image.

    Attributes:
        pose: the pose.
        center: the pelvis in image pixels (x, y).
        height: pixels per figure-height unit (about the standing height).
        angle: rotation in degrees, positive clockwise on screen.
        palette: the colours.
        back_side: which side's limbs are drawn first (+1 left, -1 right).
    """

    pose: Pose
    center: Tuple[float, float]
    height: float
    angle: float
    palette: Palette
    back_side: int = 1

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) figure-frame points to image pixels."""
        pts = np.asarray(points, dtype=float)
        return pts @ (_rot(self.angle).T * self.height) + np.asarray(self.center, float)

    def image_joints(self) -> Dict[str, np.ndarray]:
        """Every joint of :meth:`Pose.joints` in image pixels."""
        return {k: self.to_image(v) for k, v in self.pose.joints().items()}

    def keypoints(self) -> np.ndarray:
        """The five keypoints in image pixels, float (5, 2)."""
        return self.to_image(self.pose.keypoints())

    def parts(self) -> List[List[Tuple[Any, ...]]]:
        """The drawing primitives, back to front, in groups.

        Each group is outlined as a whole before it is filled (no seams at
        the joints). Primitives: ``('line', a, b, thickness, colour)``,
        ``('circle', c, radius, colour)``, ``('poly', points, colour)``;
        ``('detail', primitive)`` wraps a fill-only primitive (not
        outlined, not part of the extent).

        Returns:
            The groups.
        """
        j = self.image_joints()
        s, p = self.height, self.palette
        limb = max(2.0, _LIMB_T * s)
        groups: List[List[Tuple[Any, ...]]] = []
        order = ('left', 'right') if self.back_side > 0 else ('right', 'left')
        for name in order:                                   # legs and shoes
            groups.append([('line', j[f'{name}_hip'], j[f'{name}_knee'], limb * 1.15, p.trousers),
                           ('line', j[f'{name}_knee'], j[f'{name}_foot'], limb * 1.05, p.trousers)])
            groups.append([('circle', j[f'{name}_foot'], max(1.5, _SHOE_R * s), p.shoes)])
        # torso: neck (skin) then the shirt, a belt and a chest badge
        origin = self.to_image(np.zeros(2))
        up = self.to_image(_rot(self.pose.lean) @ np.array([0.0, -1.0])) - origin
        up /= np.linalg.norm(up)
        side = np.array([-up[1], up[0]])                     # towards the figure's left
        hip_side = self.to_image(np.array([1.0, 0.0])) - self.to_image(np.zeros(2))
        hip_side /= np.linalg.norm(hip_side)
        groups.append([('line', j['neck'], j['head'], limb * 0.9, p.skin)])
        sh_w, hip_w = (_SHOULDER + 0.02) * s, (_HIP + 0.03) * s
        neck_base = j['neck'] - up * 0.01 * s
        torso = np.stack([neck_base + side * sh_w, neck_base - side * sh_w,
                          j['pelvis'] - hip_side * hip_w, j['pelvis'] + hip_side * hip_w])
        belt_t = max(1.0, 0.025 * s)
        shade = tuple(int(c * 0.6) for c in p.trousers)
        groups.append([('poly', torso, p.shirt),
                       ('detail', ('line', j['pelvis'] - hip_side * hip_w * 0.95,
                                   j['pelvis'] + hip_side * hip_w * 0.95, belt_t, shade)),
                       ('detail', ('circle', j['neck'] * 0.62 + j['pelvis'] * 0.38,
                                   max(1.0, 0.028 * s), p.accent))])
        for name in order:                                   # arms and hands
            groups.append([('line', j[f'{name}_shoulder'], j[f'{name}_elbow'], limb, p.shirt),
                           ('line', j[f'{name}_elbow'], j[f'{name}_hand'], limb * 0.85, p.skin),
                           ('circle', j[f'{name}_hand'], max(1.5, _HAND_R * s), p.skin)])
        # head: hair disc, face disc shifted down (hair shows on top), eyes, mouth
        r = _HEAD_R * s
        hup = self.to_image(_rot(self.pose.lean + self.pose.head_tilt) @ np.array([0.0, -1.0])) \
            - self.to_image(np.zeros(2))
        hup /= np.linalg.norm(hup)
        hside = np.array([-hup[1], hup[0]])
        face_c = j['head'] - hup * 0.24 * r
        head = [('circle', j['head'], r, p.hair),
                ('detail', ('circle', face_c, r * 0.76, p.skin))]
        if r >= 3.0:
            eye_r = max(0.8, 0.12 * r)
            for sgn in (1.0, -1.0):
                head.append(('detail', ('circle', face_c + hside * sgn * 0.33 * r + hup * 0.08 * r,
                                        eye_r, (30, 25, 20))))
        if r >= 5.0:
            mouth = face_c - hup * 0.38 * r
            head.append(('detail', ('line', mouth - hside * 0.24 * r, mouth + hside * 0.24 * r,
                                    max(1.0, 0.09 * r), (40, 40, 150))))
        groups.append(head)
        return groups

    def extent(self) -> np.ndarray:
        """The drawn extent, unpadded: float (4,) x0, y0, x1, y1."""
        lo = np.full(2, np.inf)
        hi = np.full(2, -np.inf)
        for group in self.parts():
            for prim in group:
                if prim[0] == 'detail':
                    continue
                pts, rad = _prim_points(prim)
                lo = np.minimum(lo, pts.min(0) - rad)
                hi = np.maximum(hi, pts.max(0) + rad)
        return np.concatenate([lo, hi])

    def box(self, image_size: Tuple[int, int]) -> np.ndarray:
        """The annotation box: the extent padded by 4% of the height, clipped
        to the image and rounded outwards to whole pixels; float (4,) xyxy."""
        w, h = image_size
        pad = _BOX_PAD * self.height
        x0, y0, x1, y1 = self.extent() + np.array([-pad, -pad, pad, pad])
        return np.array([max(0.0, math.floor(x0)), max(0.0, math.floor(y0)),
                         min(float(w), math.ceil(x1)), min(float(h), math.ceil(y1))])


def _prim_points(prim: Tuple[Any, ...]) -> Tuple[np.ndarray, float]:
    """Points and radius (half thickness + outline) of one primitive."""
    kind = prim[0]
    if kind == 'line':
        return np.stack([prim[1], prim[2]]), prim[3] / 2 + 1.0
    if kind == 'circle':
        return np.asarray(prim[1])[None], prim[2] + 1.0
    return np.asarray(prim[1]), 1.0


# ------------------------------------------------------------------ drawing
def _fx(p: np.ndarray) -> Tuple[int, int]:
    """A point in cv2's fixed-point coordinates."""
    return int(round(float(p[0]) * _SCALE)), int(round(float(p[1]) * _SCALE))


def _draw_prim(img: np.ndarray, prim: Tuple[Any, ...], colour: Any, grow: float,
               aa: bool = True) -> None:
    """Draw one primitive, ``grow`` px larger (outline / owner map)."""
    kind = prim[0]
    lt = cv2.LINE_AA if aa else cv2.LINE_8
    if kind == 'line':
        t = max(1, int(round(prim[3] + 2 * grow)))
        cv2.line(img, _fx(prim[1]), _fx(prim[2]), colour, t, lt, _SUBPIXEL)
    elif kind == 'circle':
        cv2.circle(img, _fx(prim[1]), int(round((prim[2] + grow) * _SCALE)), colour, -1, lt,
                   _SUBPIXEL)
    elif kind == 'poly':
        pts = np.array([_fx(q) for q in prim[1]], np.int32)
        cv2.fillPoly(img, [pts], colour, lt, _SUBPIXEL)
        if grow > 0:
            cv2.polylines(img, [pts], True, colour, max(1, int(round(2 * grow))), lt, _SUBPIXEL)


def _shift_colour(c: Colour, f: float) -> Colour:
    """Lighter (``f > 0``) or darker (``f < 0``) by the fraction ``f``."""
    if f > 0:
        out = [v + (255 - v) * f for v in c]
    else:
        out = [v * (1 + f) for v in c]
    return tuple(min(255, max(0, int(round(v)))) for v in out)  # type: ignore[return-value]


def _draw_figure(img: np.ndarray, owner: np.ndarray, owner_id: int, fig: Figure,
                 light: np.ndarray) -> None:
    """Draw a figure onto ``img`` and its pixels into ``owner``."""
    for group in fig.parts():
        solid = [q for q in group if q[0] != 'detail']
        for prim in solid:                                   # outline pass
            _draw_prim(img, prim, _shift_colour(prim[-1], -0.55), 1.0)
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
                   _shift_colour(prim[-1], 0.3), 0.0)
    elif kind == 'circle' and prim[2] >= 3.0:
        _draw_prim(img, ('circle', prim[1] + light * prim[2] * 0.4, prim[2] * 0.3, None),
                   _shift_colour(prim[-1], 0.3), 0.0)


@lru_cache(maxsize=8)
def _grid(w: int, h: int) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel coordinate grids (read-only)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy.setflags(write=False)
    xx.setflags(write=False)
    return xx, yy


def _random_colour(rng: np.random.Generator) -> Colour:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def _background(rng: np.random.Generator, w: int, h: int,
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
                      _random_colour(rng), -1 if rng.random() < 0.7 else int(rng.integers(1, 4)))
    for _ in range(int(rng.integers(2, 10))):                # lines
        a = rng.uniform(0, 1, 2) * (w, h)
        b = rng.uniform(0, 1, 2) * (w, h)
        cv2.line(img, _fx(a), _fx(b), _random_colour(rng), int(rng.integers(1, 4)),
                 cv2.LINE_AA, _SUBPIXEL)
    for _ in range(int(rng.integers(0, 6))):                 # blobs
        c = rng.uniform(0, 1, 2) * (w, h)
        axes = (int(rng.uniform(0.02, 0.15) * scale), int(rng.uniform(0.02, 0.15) * scale))
        cv2.ellipse(img, (int(c[0]), int(c[1])), axes, float(rng.uniform(0, 180)), 0, 360,
                    _random_colour(rng), -1, cv2.LINE_AA)
    if lookalikes:                                           # limb-like clutter
        for _ in range(int(rng.integers(1, 6))):
            colour = lookalikes[int(rng.integers(len(lookalikes)))]
            a = rng.uniform(0, 1, 2) * (w, h)
            length = rng.uniform(0.05, 0.2) * scale
            d = rng.uniform(0, 2 * math.pi)
            b = a + length * np.array([math.cos(d), math.sin(d)])
            thick = int(rng.uniform(2, 0.04 * scale + 3))
            cv2.line(img, _fx(a), _fx(b), _shift_colour(colour, -0.55), thick + 2,
                     cv2.LINE_AA, _SUBPIXEL)
            cv2.line(img, _fx(a), _fx(b), colour, thick, cv2.LINE_AA, _SUBPIXEL)
            if rng.random() < 0.5:
                cv2.circle(img, _fx(b), int(thick * 0.8 * _SCALE), colour, -1, cv2.LINE_AA,
                           _SUBPIXEL)
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
        poly = np.round(box * _SCALE).astype(np.int32)
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, _SUBPIXEL)
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
        cv2.fillPoly(mask, [np.round(poly * _SCALE).astype(np.int32)], 255, cv2.LINE_8,
                     _SUBPIXEL)
    on = mask > 0
    if not on.any():
        return
    xx, yy = _grid(img.shape[1], img.shape[0])
    base = np.asarray(_random_colour(rng), np.float32)
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


def _annotate(figures: Sequence[Figure], owner: np.ndarray,
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


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two xyxy boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


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
            if any(_iou(box, b) > max_iou for b in boxes):
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
    lookalikes = [c for f in figures for c in f.palette.colours()]
    img = _background(rng, w, h, lookalikes)
    owner = np.zeros((h, w), np.uint8)
    ang = rng.uniform(0, 2 * math.pi)
    light = np.array([math.cos(ang), math.sin(ang)])
    for k, fig in enumerate(figures):
        _draw_figure(img, owner, k + 1, fig, light)
        if rng.random() < occlusion_prob:
            _draw_occluder(rng, img, owner, fig, 255)
    sigma = rng.uniform(0.0, 5.0)
    if sigma > 0.5:
        noise = rng.standard_normal(img.shape, dtype=np.float32) * np.float32(sigma)
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    return img, _annotate(figures, owner)


# -------------------------------------------------------------------- video
def video_figures(t: int, image_size: Tuple[int, int], palettes: Sequence[Palette]
                  ) -> List[Tuple[int, Figure]]:
    """The video's figures at frame ``t``, back to front.

    Track 2 stands and waves its right arm, drifting slowly; track 1 walks
    across the frame in front of it (one pass in 150 frames, whatever the
    clip length). Every joint is a smooth function of ``t``.

    Args:
        t: frame index.
        image_size: (w, h).
        palettes: the two figures' palettes (walker, waver).

    Returns:
        (track_id, figure) pairs in drawing order.
    """
    w, h = image_size
    tau = 2 * math.pi
    step = tau * t / 28.0                       # gait phase
    walker = Pose(
        lean=3.0 * math.sin(step), head_tilt=4.0 * math.sin(step + 1.0),
        left_arm=22.0 + 14.0 * math.sin(step + math.pi), left_elbow=15.0 + 10.0 * math.sin(step),
        right_arm=22.0 + 14.0 * math.sin(step), right_elbow=15.0 - 10.0 * math.sin(step),
        left_leg=14.0 + 11.0 * math.sin(step), left_knee=8.0 + 8.0 * math.sin(step + math.pi / 2),
        right_leg=14.0 - 11.0 * math.sin(step), right_knee=8.0 - 8.0 * math.sin(step + math.pi / 2))
    walk_x = 0.5 * w - 0.33 * w * math.cos(tau * t / 300.0)
    walk_y = 0.64 * h - 0.008 * h * (1 - math.cos(2 * step)) / 2
    wave = tau * t / 18.0
    waver = Pose(
        lean=-3.0 * math.sin(tau * t / 60.0), head_tilt=6.0 * math.sin(tau * t / 40.0),
        left_arm=18.0 + 5.0 * math.sin(tau * t / 50.0), left_elbow=10.0,
        right_arm=140.0 + 20.0 * math.sin(wave), right_elbow=20.0 + 25.0 * math.sin(wave + 1.0),
        left_leg=9.0, left_knee=3.0, right_leg=9.0, right_knee=3.0)
    wave_x = 0.66 * w + 0.04 * w * math.sin(tau * t / 150.0)
    return [
        (2, Figure(waver, (wave_x, 0.45 * h), 0.36 * h, 8.0 * math.sin(tau * t / 90.0),
                   palettes[1], 1)),
        (1, Figure(walker, (walk_x, walk_y), 0.5 * h, 3.0 * math.sin(step / 2), palettes[0], -1)),
    ]


def _video_scene(seed: int, image_size: Tuple[int, int]
                 ) -> Tuple[np.ndarray, List[Palette], np.ndarray, Tuple[int, ...], np.ndarray]:
    """The static parts of the video: background, palettes, a post in front
    (polygon, colour) and the light direction."""
    rng = np.random.default_rng([seed, _SPLIT_CODES['video'], 0])
    w, h = image_size
    palettes = [Palette.random(rng), Palette.random(rng)]
    background = _background(rng, w, h, [c for p in palettes for c in p.colours()])
    x = 0.3 * w
    post = np.array([[x, 0.52 * h], [x + 0.04 * w, 0.52 * h], [x + 0.04 * w, h + 2], [x, h + 2]])
    colour = _random_colour(rng)
    light = np.array([-0.6, -0.8])
    return background, palettes, post, colour, light


def render_video_frame(t: int, seed: int, image_size: Tuple[int, int]
                       ) -> Tuple[np.ndarray, List[Instance]]:
    """Draw frame ``t`` of the demo video.

    Args:
        t: frame index.
        seed: the dataset seed.
        image_size: (w, h).

    Returns:
        uint8 (h, w, 3) BGR frame and its instances (with ``track_id``).
    """
    return _render_frame(t, image_size, _video_scene(seed, image_size))


def _render_frame(t: int, image_size: Tuple[int, int], scene: Tuple[Any, ...]
                  ) -> Tuple[np.ndarray, List[Instance]]:
    background, palettes, post, colour, light = scene
    img = background.copy()
    owner = np.zeros(img.shape[:2], np.uint8)
    tracks = video_figures(t, image_size, palettes)
    for k, (_, fig) in enumerate(tracks):
        _draw_figure(img, owner, k + 1, fig, light)
    poly = np.round(post * _SCALE).astype(np.int32)
    cv2.fillPoly(img, [poly], colour, cv2.LINE_AA, _SUBPIXEL)
    cv2.polylines(img, [poly], True, _shift_colour(colour, -0.5), 2, cv2.LINE_AA, _SUBPIXEL)
    cv2.fillPoly(owner, [poly], 255, cv2.LINE_8, _SUBPIXEL)
    return img, _annotate([f for _, f in tracks], owner, [i for i, _ in tracks])


# ---------------------------------------------------------------- writing
def _r2(x: float) -> float:
    """Round for json (2 decimals; integers stay exact)."""
    return round(float(x), 2)


def _coco_keypoints(kps: np.ndarray) -> List[float]:
    out: List[float] = []
    for x, y, v in kps:
        out += [_r2(x), _r2(y), int(v)] if v > 0 else [0.0, 0.0, 0]
    return out


def _coco_annotation(ann_id: int, image_id: int, inst: Instance) -> Dict[str, Any]:
    x, y, bw, bh = (float(v) for v in inst.bbox)
    return dict(id=ann_id, image_id=image_id, category_id=1, bbox=[x, y, bw, bh],
                area=_r2(bw * bh), iscrowd=0, num_keypoints=inst.num_keypoints,
                keypoints=_coco_keypoints(inst.keypoints))


def _category() -> Dict[str, Any]:
    return dict(id=1, name='self5', supercategory='person', keypoints=list(KEYPOINT_NAMES),
                skeleton=[[a + 1, b + 1] for a, b in SKELETON],
                flip_pairs=[list(p) for p in FLIP_PAIRS])


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(',', ':')) + '\n', encoding='utf-8')


def _write_jpg(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img, [int(cv2.IMWRITE_JPEG_QUALITY), JPEG_QUALITY]):
        raise OSError(f'could not write {path}')


def _write_split(out: Path, split: str, count: int, image_size: Tuple[int, int], seed: int,
                 tick: Callable[[], None]) -> Dict[str, int]:
    images, anns = [], []
    w, h = image_size
    for i in range(count):
        rng = np.random.default_rng([seed, _SPLIT_CODES[split], i])
        img, instances = render_image(rng, image_size)
        name = f'{split}_{i + 1:06d}.jpg'
        _write_jpg(out / 'images' / name, img)
        images.append(dict(id=i + 1, file_name=name, width=w, height=h))
        for inst in instances:
            anns.append(_coco_annotation(len(anns) + 1, i + 1, inst))
        tick()
    _write_json(out / f'{split}_coco_joint.json', dict(
        info=dict(description=f'synthetic self5 {split} split', generator='customkpt.demo',
                  generator_version=GENERATOR_VERSION, seed=seed),
        images=images, annotations=anns, categories=[_category()]))
    return {f'{split}_images': len(images), f'{split}_instances': len(anns)}


def _write_video(out: Path, frames: int, fps: int, image_size: Tuple[int, int], seed: int,
                 tick: Callable[[], None]) -> Dict[str, int]:
    w, h = image_size
    vdir = out / 'video'
    (vdir / 'frames').mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(vdir / 'self5_video.mp4'), cv2.VideoWriter_fourcc(*'mp4v'),
                             float(fps), (w, h))
    if not writer.isOpened():
        raise RuntimeError('cv2.VideoWriter cannot write mp4v; is opencv built with FFMPEG?')
    scene = _video_scene(seed, image_size)
    gt_frames, images, anns = [], [], []
    try:
        for t in range(frames):
            img, instances = _render_frame(t, image_size, scene)
            writer.write(img)
            rel = f'video/frames/{t:06d}.jpg'
            _write_jpg(out / rel, img)
            gt_frames.append(dict(frame_id=t, file_name=rel, instances=[dict(
                track_id=inst.track_id,
                keypoints=[[_r2(x), _r2(y), int(v)] for (x, y), v in
                           zip(inst.true_keypoints, inst.keypoints[:, 2])],
                bbox=[float(b) for b in inst.bbox]) for inst in instances]))
            images.append(dict(id=t + 1, file_name=rel, width=w, height=h, frame_id=t,
                               video_id=1))
            for inst in instances:
                ann = _coco_annotation(len(anns) + 1, t + 1, inst)
                ann['track_id'] = inst.track_id
                anns.append(ann)
            tick()
    finally:
        writer.release()
    _write_json(vdir / 'self5_video_gt.json', dict(
        video='self5_video.mp4', fps=fps, width=w, height=h, num_frames=frames,
        keypoint_names=list(KEYPOINT_NAMES), flip_pairs=[list(p) for p in FLIP_PAIRS],
        skeleton=[list(p) for p in SKELETON], frames=gt_frames))
    _write_json(out / 'video_coco_joint.json', dict(
        info=dict(description='synthetic self5 video frames', generator='customkpt.demo',
                  generator_version=GENERATOR_VERSION, seed=seed, fps=fps),
        videos=[dict(id=1, file_name='video/self5_video.mp4', num_frames=frames, fps=fps)],
        images=images, annotations=anns, categories=[_category()]))
    return dict(video_frames=frames, video_instances=len(anns))


def read_manifest(out_dir: str | Path) -> Optional[Dict[str, Any]]:
    """The ``manifest.json`` of a generated dataset, or ``None``."""
    path = Path(out_dir) / 'manifest.json'
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None


def _expected_files(params: Dict[str, Any]) -> List[str]:
    files = ['train_coco_joint.json', 'val_coco_joint.json']
    for split in ('train', 'val'):
        if params[f'num_{split}'] > 0:
            files += [f'images/{split}_000001.jpg',
                      f'images/{split}_{params[f"num_{split}"]:06d}.jpg']
    if params['with_video']:
        files += ['video/self5_video.mp4', 'video/self5_video_gt.json', 'video_coco_joint.json']
        if params['video_frames'] > 0:
            files.append(f'video/frames/{params["video_frames"] - 1:06d}.jpg')
    return files


def _clean(out: Path) -> None:
    """Remove what an earlier run of this generator wrote (its names only)."""
    (out / 'manifest.json').unlink(missing_ok=True)
    for pattern in ('images/train_*.jpg', 'images/val_*.jpg', 'video/frames/*.jpg'):
        for path in sorted(out.glob(pattern)):
            path.unlink()
    for name in ('train_coco_joint.json', 'val_coco_joint.json', 'video_coco_joint.json',
                 'video/self5_video.mp4', 'video/self5_video_gt.json'):
        (out / name).unlink(missing_ok=True)


@dataclass
class BuildResult:
    """What :func:`build_self5_dataset` did.

    Attributes:
        out_dir: the dataset folder.
        skipped: True when an up-to-date dataset was already there.
        counts: images / instances / frames per part (from the manifest).
        files: the main files, relative to ``out_dir``.
        seconds: time spent.
    """

    out_dir: Path
    skipped: bool
    counts: Dict[str, int] = field(default_factory=dict)
    files: List[str] = field(default_factory=list)
    seconds: float = 0.0


def build_self5_dataset(out_dir: str | Path, num_train: int = 600, num_val: int = 100,
                        image_size: Tuple[int, int] = (320, 240), seed: int = 0,
                        with_video: bool = True, video_frames: int = 150, video_fps: int = 25,
                        force: bool = False, progress: bool = True) -> BuildResult:
    """Write the self5 dataset (see the module docstring for the layout).

    Args:
        out_dir: the dataset folder (created).
        num_train: training images.
        num_val: validation images.
        image_size: (w, h) of images and video frames.
        seed: the random seed; the same seed gives byte-identical files.
        with_video: also write the video, its frames and ground truth.
        video_frames: number of video frames.
        video_fps: video frame rate.
        force: rewrite even when ``manifest.json`` matches these parameters.
        progress: show a tqdm progress bar (on stderr).

    Returns:
        What was done.

    Raises:
        ValueError: on negative counts or a non-positive image size.
    """
    t0 = time.perf_counter()
    w, h = int(image_size[0]), int(image_size[1])
    if min(num_train, num_val, video_frames) < 0 or w <= 0 or h <= 0 or video_fps <= 0:
        raise ValueError('counts must be >= 0, image size and fps > 0')
    out = Path(out_dir)
    params = dict(generator_version=GENERATOR_VERSION, num_train=int(num_train),
                  num_val=int(num_val), image_size=[w, h], seed=int(seed),
                  with_video=bool(with_video),
                  video_frames=int(video_frames) if with_video else 0,
                  video_fps=int(video_fps) if with_video else 0)
    files = _expected_files(params)
    manifest = read_manifest(out)
    if (not force and manifest is not None and manifest.get('params') == params
            and all((out / f).is_file() for f in files)):
        return BuildResult(out, True, dict(manifest.get('counts', {})),
                           list(manifest.get('files', [])), time.perf_counter() - t0)

    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    (out / 'images').mkdir(exist_ok=True)
    from tqdm import tqdm
    total = params['num_train'] + params['num_val'] + params['video_frames']
    counts: Dict[str, int] = {}
    with tqdm(total=total, desc='self5 demo data', unit='img', disable=not progress,
              leave=False) as bar:
        def tick() -> None:
            bar.update(1)
        counts.update(_write_split(out, 'train', params['num_train'], (w, h), params['seed'], tick))
        counts.update(_write_split(out, 'val', params['num_val'], (w, h), params['seed'], tick))
        if with_video:
            counts.update(_write_video(out, params['video_frames'], params['video_fps'], (w, h),
                                       params['seed'], tick))
    main_files = ['train_coco_joint.json', 'val_coco_joint.json', 'images/']
    if with_video:
        main_files += ['video/self5_video.mp4', 'video/self5_video_gt.json', 'video/frames/',
                       'video_coco_joint.json']
    _write_json(out / 'manifest.json', dict(generator='customkpt.demo.synthetic', params=params,
                                            counts=counts, files=main_files))
    return BuildResult(out, False, counts, main_files, time.perf_counter() - t0)


def make_self5_dataset(out_dir: str | Path, num_train: int = 600, num_val: int = 100,
                       image_size: Tuple[int, int] = (320, 240), seed: int = 0,
                       with_video: bool = True, video_frames: int = 150, video_fps: int = 25,
                       force: bool = False, progress: bool = True) -> Path:
    """Write the self5 dataset unless an identical one is already there.

    The defaults (600 + 100 images of 320x240 and a 150-frame video) are
    sized for a CPU training run and take seconds to write. See
    :func:`build_self5_dataset` for the arguments.

    Returns:
        ``Path(out_dir)``.
    """
    return build_self5_dataset(out_dir, num_train=num_train, num_val=num_val,
                               image_size=image_size, seed=seed, with_video=with_video,
                               video_frames=video_frames, video_fps=video_fps, force=force,
                               progress=progress).out_dir
