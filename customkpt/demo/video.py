"""The self5 demo video: two moving figures, their frames and ground truth."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .coco import (GENERATOR_VERSION, SPLIT_CODES, coco_annotation, coco_category, round2,
                   write_jpg, write_json)
from .figure import FLIP_PAIRS, KEYPOINT_NAMES, SKELETON, Figure, Palette, Pose
from .scene import (SUBPIXEL, SUBPIXEL_SCALE, Instance, annotate, draw_background, draw_figure,
                    random_colour, shift_colour)

__all__ = ['video_figures', 'render_video_frame', 'write_frames', 'write_video']


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
    rng = np.random.default_rng([seed, SPLIT_CODES['video'], 0])
    w, h = image_size
    palettes = [Palette.random(rng), Palette.random(rng)]
    background = draw_background(rng, w, h, [c for p in palettes for c in p.colours()])
    x = 0.3 * w
    post = np.array([[x, 0.52 * h], [x + 0.04 * w, 0.52 * h], [x + 0.04 * w, h + 2], [x, h + 2]])
    colour = random_colour(rng)
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
        draw_figure(img, owner, k + 1, fig, light)
    poly = np.round(post * SUBPIXEL_SCALE).astype(np.int32)
    cv2.fillPoly(img, [poly], colour, cv2.LINE_AA, SUBPIXEL)
    cv2.polylines(img, [poly], True, shift_colour(colour, -0.5), 2, cv2.LINE_AA, SUBPIXEL)
    cv2.fillPoly(owner, [poly], 255, cv2.LINE_8, SUBPIXEL)
    return img, annotate([f for _, f in tracks], owner, [i for i, _ in tracks])


def write_frames(out: Path, mp4_name: str, frames: int, fps: int, image_size: Tuple[int, int],
                 render: Callable[[int], Tuple[np.ndarray, List[Instance]]],
                 tick: Callable[[], None]) -> Tuple[List[Dict], List[Dict], List[Dict]]:
    """Frames ``render(0)`` .. ``render(frames - 1)`` into ``video/<mp4_name>``
    and ``video/frames/*.jpg``.

    Returns:
        The per-frame truth, the COCO images and the COCO annotations (with
        ``track_id``).
    """
    w, h = image_size
    vdir = out / 'video'
    (vdir / 'frames').mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(vdir / mp4_name), cv2.VideoWriter_fourcc(*'mp4v'),
                             float(fps), (w, h))
    if not writer.isOpened():
        raise RuntimeError('cv2.VideoWriter cannot write mp4v; is opencv built with FFMPEG?')
    gt_frames: List[Dict] = []
    images: List[Dict] = []
    anns: List[Dict] = []
    try:
        for t in range(frames):
            img, instances = render(t)
            writer.write(img)
            rel = f'video/frames/{t:06d}.jpg'
            write_jpg(out / rel, img)
            gt_frames.append(dict(frame_id=t, file_name=rel, instances=[dict(
                track_id=inst.track_id,
                keypoints=[[round2(x), round2(y), int(v)] for (x, y), v in
                           zip(inst.true_keypoints, inst.keypoints[:, 2])],
                bbox=[float(b) for b in inst.bbox]) for inst in instances]))
            images.append(dict(id=t + 1, file_name=rel, width=w, height=h, frame_id=t,
                               video_id=1))
            for inst in instances:
                ann = coco_annotation(len(anns) + 1, t + 1, inst)
                ann['track_id'] = inst.track_id
                anns.append(ann)
            tick()
    finally:
        writer.release()
    return gt_frames, images, anns


def write_video(out: Path, frames: int, fps: int, image_size: Tuple[int, int], seed: int,
                tick: Callable[[], None]) -> Dict[str, int]:
    w, h = image_size
    scene = _video_scene(seed, image_size)
    gt_frames, images, anns = write_frames(out, 'self5_video.mp4', frames, fps, image_size,
                                           lambda t: _render_frame(t, image_size, scene), tick)
    write_json(out / 'video' / 'self5_video_gt.json', dict(
        video='self5_video.mp4', fps=fps, width=w, height=h, num_frames=frames,
        keypoint_names=list(KEYPOINT_NAMES), flip_pairs=[list(p) for p in FLIP_PAIRS],
        skeleton=[list(p) for p in SKELETON], frames=gt_frames))
    write_json(out / 'video_coco_joint.json', dict(
        info=dict(description='synthetic self5 video frames', generator='customkpt.demo',
                  generator_version=GENERATOR_VERSION, seed=seed, fps=fps),
        videos=[dict(id=1, file_name='video/self5_video.mp4', num_frames=frames, fps=fps)],
        images=images, annotations=anns, categories=[coco_category()]))
    return dict(video_frames=frames, video_instances=len(anns))
