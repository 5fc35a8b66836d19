"""The self5 keypoint definition and its articulated stick figures.

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
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import cv2
import numpy as np

__all__ = [
    'KEYPOINT_NAMES', 'FLIP_PAIRS', 'SKELETON', 'SIGMAS', 'SELF5_META', 'SIDE_MARGIN',
    'Colour', 'Pose', 'Palette', 'Figure', 'sample_pose', 'prim_points',
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

#: Minimum distance (in figure heights) of each hand and foot from the body's
#: vertical axis, on its own side, in the figure's frame.
SIDE_MARGIN = 0.06

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
        limb = max(2.0, _LIMB_T * self.height)
        order = ('left', 'right') if self.back_side > 0 else ('right', 'left')
        groups: List[List[Tuple[Any, ...]]] = []
        for name in order:
            groups += self._leg_groups(j, name, limb)
        groups += self._torso_groups(j, limb)
        for name in order:
            groups.append(self._arm_group(j, name, limb))
        groups.append(self._head_group(j))
        return groups

    def _leg_groups(self, j: Dict[str, np.ndarray], name: str,
                    limb: float) -> List[List[Tuple[Any, ...]]]:
        """One leg (thigh and shin) and its shoe."""
        p = self.palette
        return [[('line', j[f'{name}_hip'], j[f'{name}_knee'], limb * 1.15, p.trousers),
                 ('line', j[f'{name}_knee'], j[f'{name}_foot'], limb * 1.05, p.trousers)],
                [('circle', j[f'{name}_foot'], max(1.5, _SHOE_R * self.height), p.shoes)]]

    def _arm_group(self, j: Dict[str, np.ndarray], name: str,
                   limb: float) -> List[Tuple[Any, ...]]:
        """One arm: sleeve, forearm and hand."""
        p = self.palette
        return [('line', j[f'{name}_shoulder'], j[f'{name}_elbow'], limb, p.shirt),
                ('line', j[f'{name}_elbow'], j[f'{name}_hand'], limb * 0.85, p.skin),
                ('circle', j[f'{name}_hand'], max(1.5, _HAND_R * self.height), p.skin)]

    def _torso_groups(self, j: Dict[str, np.ndarray],
                      limb: float) -> List[List[Tuple[Any, ...]]]:
        """The neck (skin), then the shirt with a belt and a chest badge."""
        s, p = self.height, self.palette
        origin = self.to_image(np.zeros(2))
        up = self.to_image(_rot(self.pose.lean) @ np.array([0.0, -1.0])) - origin
        up /= np.linalg.norm(up)
        side = np.array([-up[1], up[0]])                     # towards the figure's left
        hip_side = self.to_image(np.array([1.0, 0.0])) - self.to_image(np.zeros(2))
        hip_side /= np.linalg.norm(hip_side)
        sh_w, hip_w = (_SHOULDER + 0.02) * s, (_HIP + 0.03) * s
        neck_base = j['neck'] - up * 0.01 * s
        torso = np.stack([neck_base + side * sh_w, neck_base - side * sh_w,
                          j['pelvis'] - hip_side * hip_w, j['pelvis'] + hip_side * hip_w])
        belt_t = max(1.0, 0.025 * s)
        shade = tuple(int(c * 0.6) for c in p.trousers)
        return [[('line', j['neck'], j['head'], limb * 0.9, p.skin)],
                [('poly', torso, p.shirt),
                 ('detail', ('line', j['pelvis'] - hip_side * hip_w * 0.95,
                             j['pelvis'] + hip_side * hip_w * 0.95, belt_t, shade)),
                 ('detail', ('circle', j['neck'] * 0.62 + j['pelvis'] * 0.38,
                             max(1.0, 0.028 * s), p.accent))]]

    def _head_group(self, j: Dict[str, np.ndarray]) -> List[Tuple[Any, ...]]:
        """Hair disc, face disc shifted down (hair shows on top), eyes, mouth."""
        r = _HEAD_R * self.height
        hup = self.to_image(_rot(self.pose.lean + self.pose.head_tilt) @ np.array([0.0, -1.0])) \
            - self.to_image(np.zeros(2))
        hup /= np.linalg.norm(hup)
        hside = np.array([-hup[1], hup[0]])
        face_c = j['head'] - hup * 0.24 * r
        head: List[Tuple[Any, ...]] = [('circle', j['head'], r, self.palette.hair),
                                       ('detail', ('circle', face_c, r * 0.76, self.palette.skin))]
        if r >= 3.0:
            eye_r = max(0.8, 0.12 * r)
            for sgn in (1.0, -1.0):
                head.append(('detail', ('circle', face_c + hside * sgn * 0.33 * r + hup * 0.08 * r,
                                        eye_r, (30, 25, 20))))
        if r >= 5.0:
            mouth = face_c - hup * 0.38 * r
            head.append(('detail', ('line', mouth - hside * 0.24 * r, mouth + hside * 0.24 * r,
                                    max(1.0, 0.09 * r), (40, 40, 150))))
        return head

    def extent(self) -> np.ndarray:
        """The drawn extent, unpadded: float (4,) x0, y0, x1, y1."""
        lo = np.full(2, np.inf)
        hi = np.full(2, -np.inf)
        for group in self.parts():
            for prim in group:
                if prim[0] == 'detail':
                    continue
                pts, rad = prim_points(prim)
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


def prim_points(prim: Tuple[Any, ...]) -> Tuple[np.ndarray, float]:
    """Points and radius (half thickness + outline) of one primitive."""
    kind = prim[0]
    if kind == 'line':
        return np.stack([prim[1], prim[2]]), prim[3] / 2 + 1.0
    if kind == 'circle':
        return np.asarray(prim[1])[None], prim[2] + 1.0
    return np.asarray(prim[1]), 1.0
