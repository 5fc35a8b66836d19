"""The synthetic ``self5`` dataset: stick figures with five keypoints.

Each figure faces the camera and has a head, a torso, two arms and two legs.
Its five keypoints are ``head`` (the head's centre), ``left_hand``,
``right_hand``, ``left_foot`` and ``right_foot``; "left" is the figure's own
left, which is the image's right side for an upright figure. Images hold 1-4
figures of varied size and rotation on cluttered textured backgrounds, with
random occluders; a point hidden behind an occluder or another figure is
labelled ``v=1`` (labelled, not visible), a point outside the image is
unlabelled (0, 0, 0).

The same seed always gives byte-identical files: every image draws from its
own ``numpy.random.Generator`` seeded by (seed, split, index).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

KEYPOINT_NAMES = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
FLIP_PAIRS = [[1, 2], [3, 4]]
SKELETON = [[0, 1], [0, 2], [0, 3], [0, 4]]
SIGMAS = [0.026, 0.062, 0.062, 0.089, 0.089]
SELF5_META = dict(dataset_name='self5', keypoint_names=KEYPOINT_NAMES, flip_pairs=FLIP_PAIRS,
                  skeleton=SKELETON, sigmas=SIGMAS)
VERSION = 1  # bump when the drawing changes, so cached datasets are rebuilt

_JPEG = [int(cv2.IMWRITE_JPEG_QUALITY), 92]


@dataclass
class Pose:
    """A figure's pose in its own frame (unit = figure height, y down).

    Angles are in radians, measured from straight down; positive turns a
    limb toward the figure's left (image +x for an upright figure).
    """

    left_arm: tuple[float, float]     # shoulder angle, elbow angle
    right_arm: tuple[float, float]
    left_leg: tuple[float, float]     # hip angle, knee angle
    right_leg: tuple[float, float]

    @staticmethod
    def random(rng: np.random.Generator) -> 'Pose':
        # Arms stay on their own side (no crossing), so left/right is visible.
        def arm():
            up = rng.uniform(0.2, 2.6)
            return (up, float(np.clip(up + rng.uniform(-1.2, 1.2), 0.1, 3.0)))

        def leg():
            hip = rng.uniform(0.0, 0.7)
            return (hip, float(np.clip(hip - rng.uniform(0.0, 0.9), -0.4, 1.2)))

        return Pose(arm(), arm(), leg(), leg())


def _limb(start: np.ndarray, angles: tuple[float, float], lengths: tuple[float, float],
          side: float) -> tuple[np.ndarray, np.ndarray]:
    """Joint and end point of a two-segment limb; side +1 = figure's left."""
    a1, a2 = angles
    mid = start + lengths[0] * np.array([side * np.sin(a1), np.cos(a1)])
    end = mid + lengths[1] * np.array([side * np.sin(a2), np.cos(a2)])
    return mid, end


def figure_joints(pose: Pose) -> dict[str, np.ndarray]:
    """All joints of a figure in its own frame (height 1, pelvis at 0)."""
    neck = np.array([0.0, -0.42])
    pelvis = np.array([0.0, 0.0])
    j = {'head': np.array([0.0, -0.55]), 'neck': neck, 'pelvis': pelvis}
    for side, name in ((1.0, 'left'), (-1.0, 'right')):
        shoulder = neck + np.array([side * 0.11, 0.03])
        hip = pelvis + np.array([side * 0.07, 0.0])
        arm = pose.left_arm if side > 0 else pose.right_arm
        leg = pose.left_leg if side > 0 else pose.right_leg
        elbow, hand = _limb(shoulder, arm, (0.17, 0.16), side)
        knee, foot = _limb(hip, leg, (0.22, 0.22), side)
        j.update({f'{name}_shoulder': shoulder, f'{name}_elbow': elbow, f'{name}_hand': hand,
                  f'{name}_hip': hip, f'{name}_knee': knee, f'{name}_foot': foot})
    return j


def _to_image(points: dict[str, np.ndarray], center: np.ndarray, height: float,
              angle: float) -> dict[str, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return {k: center + height * (rot @ v) for k, v in points.items()}


def _texture(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A cluttered background: gradient, smooth noise, shapes and strokes."""
    base = rng.uniform(40, 215, size=3)
    tilt = rng.uniform(-60, 60, size=3)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(direction) * gx / w + np.sin(direction) * gy / h)[..., None]
    img = base + tilt * ramp
    noise = rng.normal(0, 1, size=(h // 8 + 1, w // 8 + 1, 3)).astype(np.float32)
    img += 18 * cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(rng.integers(3, 9)):
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        kind = rng.integers(0, 3)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + int(rng.integers(10, w // 3)),
                                        y + int(rng.integers(10, h // 3))), colour, -1)
        elif kind == 1:
            cv2.circle(img, (x, y), int(rng.integers(5, h // 6)), colour, -1, cv2.LINE_AA)
        else:  # limb-like distractor strokes
            x2, y2 = x + int(rng.integers(-60, 60)), y + int(rng.integers(-60, 60))
            cv2.line(img, (x, y), (x2, y2), colour, int(rng.integers(2, 7)), cv2.LINE_AA)
    img = cv2.add(img, rng.integers(0, 12, size=img.shape, dtype=np.uint8))  # sensor grain
    return img


def _draw_figure(img: np.ndarray, label: np.ndarray, fid: int, j: dict[str, np.ndarray],
                 height: float, colours: dict[str, tuple[int, int, int]]) -> None:
    """Draw one figure; ``label`` records which figure owns each pixel."""
    t = max(2, int(round(height * 0.045)))

    def pt(name):
        return tuple(int(round(v)) for v in j[name])

    def line(a, b, colour, thick):
        cv2.line(img, pt(a), pt(b), colour, thick, cv2.LINE_AA)
        cv2.line(label, pt(a), pt(b), fid, thick)

    torso = np.array([pt('left_shoulder'), pt('right_shoulder'), pt('right_hip'),
                      pt('left_hip')], np.int32)
    cv2.fillConvexPoly(img, torso, colours['shirt'], cv2.LINE_AA)
    cv2.fillConvexPoly(label, torso, fid)
    for side in ('left', 'right'):
        line(f'{side}_hip', f'{side}_knee', colours['trousers'], t + 1)
        line(f'{side}_knee', f'{side}_foot', colours['trousers'], t)
        line(f'{side}_shoulder', f'{side}_elbow', colours['shirt'], t)
        line(f'{side}_elbow', f'{side}_hand', colours['skin'], max(2, t - 1))
        for end, radius in ((f'{side}_hand', t * 0.9), (f'{side}_foot', t * 1.1)):
            r = max(2, int(round(radius)))
            cv2.circle(img, pt(end), r, colours['skin' if 'hand' in end else 'shoes'], -1,
                       cv2.LINE_AA)
            cv2.circle(label, pt(end), r, fid, -1)
    line('neck', 'pelvis', colours['shirt'], t * 2)
    r_head = max(3, int(round(height * 0.075)))
    cv2.circle(img, pt('head'), r_head, colours['skin'], -1, cv2.LINE_AA)
    cv2.circle(label, pt('head'), r_head, fid, -1)
    # A face (eyes and mouth, offset along the body axis) shows the figure
    # faces the camera, which fixes which side is its left.
    axis = j['head'] - j['neck']
    axis /= np.linalg.norm(axis) + 1e-6
    across = np.array([-axis[1], axis[0]])
    e = max(1, r_head // 4)
    for sgn in (-1, 1):
        eye = j['head'] + axis * r_head * 0.25 + across * sgn * r_head * 0.4
        cv2.circle(img, tuple(int(round(v)) for v in eye), e, (30, 30, 30), -1, cv2.LINE_AA)
    mouth = j['head'] - axis * r_head * 0.4
    cv2.circle(img, tuple(int(round(v)) for v in mouth), e, (40, 40, 160), -1, cv2.LINE_AA)


def _colours(rng: np.random.Generator) -> dict[str, tuple[int, int, int]]:
    def c(lo=0, hi=256):
        return tuple(int(v) for v in rng.integers(lo, hi, size=3))
    skin = tuple(int(v) for v in np.array([120, 160, 210]) * rng.uniform(0.6, 1.1))
    return dict(shirt=c(), trousers=c(0, 160), shoes=c(0, 90), skin=skin)


def _annotate(figures: list[dict[str, Any]], label: np.ndarray, w: int, h: int,
              pad: float) -> list[dict[str, Any]]:
    """COCO keypoints, visibility and boxes for the figures drawn."""
    out = []
    for fid, fig in enumerate(figures, start=1):
        j = fig['joints']
        kpts = []
        for name in KEYPOINT_NAMES:
            x, y = j[name]
            if not (0 <= x < w and 0 <= y < h):
                kpts += [0.0, 0.0, 0]
                continue
            owner = label[int(y), int(x)]
            kpts += [round(float(x), 2), round(float(y), 2), 2 if owner == fid else 1]
        every = np.stack(list(j.values()))
        margin = fig['height'] * pad
        x0, y0 = np.maximum(every.min(0) - margin, 0)
        x1, y1 = np.minimum(every.max(0) + margin, [w - 1, h - 1])
        n = sum(1 for v in kpts[2::3] if v > 0)
        if n == 0 or x1 - x0 < 4 or y1 - y0 < 4:
            continue
        box = [round(float(x0), 2), round(float(y0), 2), round(float(x1 - x0), 2),
               round(float(y1 - y0), 2)]
        out.append(dict(keypoints=kpts, num_keypoints=n, bbox=box,
                        area=round(box[2] * box[3], 2), track_id=fig.get('track_id', fid)))
    return out


def _occlude(img: np.ndarray, label: np.ndarray, rng: np.random.Generator,
             figures: list[dict[str, Any]]) -> None:
    """Random shapes in front of some figures (label -1 under them)."""
    for fig in figures:
        if rng.random() > 0.35:
            continue
        target = fig['joints'][KEYPOINT_NAMES[int(rng.integers(0, 5))]]
        size = fig['height'] * rng.uniform(0.12, 0.3)
        centre = target + rng.normal(0, size * 0.4, size=2)
        colour = tuple(int(v) for v in rng.integers(0, 256, size=3))
        p0 = tuple(int(v) for v in centre - size / 2)
        p1 = tuple(int(v) for v in centre + size / 2)
        if rng.random() < 0.5:
            cv2.rectangle(img, p0, p1, colour, -1)
            cv2.rectangle(label, p0, p1, -1, -1)
        else:
            axes = (int(size / 2), int(size / 3))
            c = tuple(int(v) for v in centre)
            cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
            cv2.ellipse(label, c, axes, float(rng.uniform(0, 180)), 0, 360, -1, -1)


def render_image(rng: np.random.Generator, size: tuple[int, int] = (320, 240),
                 max_figures: int = 4) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One random image and its annotations (figures that stay visible)."""
    w, h = size
    img = _texture(rng, w, h)
    label = np.zeros((h, w), np.int32)
    figures = []
    for fid in range(1, int(rng.integers(1, max_figures + 1)) + 1):
        height = float(rng.uniform(0.17, 0.85) * h)
        centre = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.25, 0.85) * h])
        angle = float(np.deg2rad(rng.uniform(-45, 45)))
        joints = _to_image(figure_joints(Pose.random(rng)), centre, height, angle)
        _draw_figure(img, label, fid, joints, height, _colours(rng))
        figures.append(dict(joints=joints, height=height))
    _occlude(img, label, rng, figures)
    return img, _annotate(figures, label, w, h, pad=0.06)


def _category() -> dict[str, Any]:
    return dict(id=1, name='self5', supercategory='person', keypoints=KEYPOINT_NAMES,
                skeleton=[[a + 1, b + 1] for a, b in SKELETON], flip_pairs=FLIP_PAIRS)


def _write_split(out: Path, split: str, count: int, seed: int, size: tuple[int, int],
                 progress: bool) -> dict[str, int]:
    images, annotations = [], []
    split_code = {'train': 1, 'val': 2}[split]
    indices = range(count)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc=f'self5 {split}', unit='img')
    for i in indices:
        rng = np.random.default_rng([seed, split_code, i])
        img, anns = render_image(rng, size)
        image_id = split_code * 1_000_000 + i + 1
        name = f'{split}_{i + 1:06d}.jpg'
        cv2.imwrite(str(out / 'images' / name), img, _JPEG)
        images.append(dict(id=image_id, file_name=name, width=size[0], height=size[1]))
        for k, ann in enumerate(anns):
            ann.pop('track_id')
            annotations.append(dict(id=image_id * 10 + k, image_id=image_id, category_id=1,
                                    iscrowd=0, **ann))
    coco = dict(images=images, annotations=annotations, categories=[_category()])
    (out / f'{split}_coco_joint.json').write_text(json.dumps(coco))
    return dict(images=len(images), instances=len(annotations))


def _video_pose(t: float, phase: float) -> Pose:
    """A walking cycle: legs swing, arms swing the opposite way."""
    swing = 0.45 * np.sin(2 * np.pi * t + phase)
    return Pose(left_arm=(0.35 - swing, 0.25 - swing), right_arm=(0.35 + swing, 0.25 + swing),
                left_leg=(0.15 + swing, 0.05 + swing), right_leg=(0.15 - swing, 0.05 - swing))


def _write_video(out: Path, frames: int, seed: int, size: tuple[int, int], fps: int) -> int:
    """Two figures walking across a fixed background, with per-frame truth."""
    w, h = size
    rng = np.random.default_rng([seed, 3])
    background = _texture(rng, w, h)
    walkers = []
    for k in range(2):
        walkers.append(dict(track_id=k + 1, colours=_colours(rng),
                            height=float(rng.uniform(0.45, 0.7) * h),
                            x0=float(rng.uniform(0.1, 0.3) * w) if k == 0 else 0.85 * w,
                            speed=float(rng.uniform(0.8, 1.4) * (1 if k == 0 else -1)),
                            y=float(rng.uniform(0.55, 0.7) * h), phase=float(k * np.pi / 2)))
    (out / 'video' / 'frames').mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(out / 'video' / 'self5_video.mp4'),
                             cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    images, annotations, truth = [], [], []
    for f in range(frames):
        img = background.copy()
        label = np.zeros((h, w), np.int32)
        figures = []
        for fid, wk in enumerate(walkers, start=1):
            t = f / fps
            centre = np.array([wk['x0'] + wk['speed'] * w * 0.12 * t,
                               wk['y'] + 0.01 * h * np.sin(4 * np.pi * t + wk['phase'])])
            angle = 0.05 * np.sin(2 * np.pi * t * 0.5)
            joints = _to_image(figure_joints(_video_pose(t * 0.9, wk['phase'])), centre,
                               wk['height'], angle)
            _draw_figure(img, label, fid, joints, wk['height'], wk['colours'])
            figures.append(dict(joints=joints, height=wk['height'], track_id=wk['track_id']))
        anns = _annotate(figures, label, w, h, pad=0.06)
        writer.write(img)
        name = f'video/frames/{f:06d}.jpg'
        cv2.imwrite(str(out / name), img, _JPEG)
        image_id = 3_000_000 + f + 1
        images.append(dict(id=image_id, file_name=name, width=w, height=h, frame_id=f,
                           video_id=1))
        frame_truth = []
        for k, ann in enumerate(anns):
            frame_truth.append(dict(track_id=ann['track_id'],
                                    keypoints=np.reshape(ann['keypoints'], (5, 3)).tolist(),
                                    bbox=ann['bbox']))
            annotations.append(dict(id=image_id * 10 + k, image_id=image_id, category_id=1,
                                    iscrowd=0, **ann))
        truth.append(dict(frame_id=f, instances=frame_truth))
    writer.release()
    (out / 'video' / 'self5_video_gt.json').write_text(json.dumps(dict(
        fps=fps, width=w, height=h, keypoint_names=KEYPOINT_NAMES, frames=truth)))
    (out / 'video_coco_joint.json').write_text(json.dumps(dict(
        images=images, annotations=annotations, categories=[_category()])))
    return frames


def make_self5_dataset(out_dir: str | Path, num_train: int = 600, num_val: int = 100,
                       image_size: tuple[int, int] = (320, 240), seed: int = 0,
                       with_video: bool = True, video_frames: int = 150, video_fps: int = 25,
                       force: bool = False, progress: bool = True) -> Path:
    """Write the self5 dataset (see the module doc) and return its folder.

    Layout: ``train_coco_joint.json``, ``val_coco_joint.json``, ``images/``
    (``file_name`` is relative to ``images/``), and with the video
    ``video/self5_video.mp4``, ``video/self5_video_gt.json`` (per-frame truth
    with track ids), ``video/frames/`` and ``video_coco_joint.json``
    (``file_name`` relative to the dataset folder). ``manifest.json`` records
    the parameters: a second call with the same ones returns at once.
    """
    out = Path(out_dir)
    params = dict(version=VERSION, num_train=num_train, num_val=num_val,
                  image_size=list(image_size), seed=seed, with_video=with_video,
                  video_frames=video_frames if with_video else 0, video_fps=video_fps)
    manifest = out / 'manifest.json'
    if not force and manifest.is_file():
        if json.loads(manifest.read_text()).get('params') == params:
            return out
    (out / 'images').mkdir(parents=True, exist_ok=True)
    for stale in (out / 'images').glob('*.jpg'):
        stale.unlink()
    counts = {split: _write_split(out, split, n, seed, tuple(image_size), progress)
              for split, n in (('train', num_train), ('val', num_val))}
    if with_video:
        counts['video_frames'] = _write_video(out, video_frames, seed, tuple(image_size),
                                              video_fps)
    manifest.write_text(json.dumps(dict(params=params, counts=counts), indent=2))
    return out
