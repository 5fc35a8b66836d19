"""A self5 video of 2-4 figures that walk across and cross each other.

Each walker goes back and forth along its own depth line (far ones smaller
and higher up, drawn first), so figures at about the same depth pass in
front of each other and one hides the other for a few frames. The ground
truth keeps a stable ``track_id`` (1 ..) per walker through every
crossing; covered points are ``v=1`` and points outside the frame ``v=0``
(their true positions are kept in the per-frame truth, as for the main
video).

Files (under the dataset folder): ``video/multi_video.mp4``,
``video/frames/000000.jpg`` ..., ``video/multi_video_gt.json`` (the layout
of ``video/self5_video_gt.json`` plus ``track_ids``) and
``multi_video_coco_joint.json`` (images with ``frame_id`` / ``video_id``,
annotations with ``track_id``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np

from .coco import GENERATOR_VERSION, coco_category, write_json
from .figure import FLIP_PAIRS, KEYPOINT_NAMES, SKELETON, Figure, Palette, Pose
from .multi import MULTI_CODES
from .scene import Instance, annotate, draw_background, draw_figure
from .video import write_frames

__all__ = ['MAX_WALKERS', 'Walker', 'walking_pose', 'make_walkers', 'render_multi_frame',
           'write_multi_video']

# (depth 0 far .. 1 near, frames for a walk there and back, phase, frames per stride)
_PATHS: Tuple[Tuple[float, float, float, float], ...] = (
    (0.85, 200.0, -math.pi / 2, 26.0),
    (0.80, 180.0, math.pi / 2, 30.0),
    (0.40, 240.0, -0.5, 24.0),
    (0.55, 220.0, math.pi - 0.5, 28.0),
)
#: The most walkers a video can have.
MAX_WALKERS = len(_PATHS)


def walking_pose(step: float, swing: float = 1.0) -> Pose:
    """A walking pose at gait phase ``step`` (radians): arms and legs swing
    in opposition, knees bend; ``swing`` scales the amplitude."""
    s, c = math.sin(step), math.cos(step)
    arm, leg = 15.0 * swing * s, 10.0 * swing * s
    return Pose(lean=2.5 * swing * s, head_tilt=3.0 * math.sin(step + 0.8),
                left_arm=20.0 - arm, right_arm=20.0 + arm,
                left_elbow=12.0 + 8.0 * s, right_elbow=12.0 - 8.0 * s,
                left_leg=13.0 + leg, right_leg=13.0 - leg,
                left_knee=7.0 + 7.0 * c, right_knee=7.0 - 7.0 * c)


@dataclass(frozen=True)
class Walker:
    """One walking figure of the video.

    Attributes:
        track_id: its id in the ground truth (1-based).
        depth: 0 (far: small, high in the frame) to 1 (near).
        period: frames for one walk across and back.
        phase: where on its path it starts (radians; ``-pi/2``: at the
            left end, walking right).
        stride: frames per gait cycle.
        palette: its colours.
    """

    track_id: int
    depth: float
    period: float
    phase: float
    stride: float
    palette: Palette

    def figure(self, t: int, image_size: Tuple[int, int]) -> Figure:
        """The figure at frame ``t``; every joint is a smooth function of ``t``."""
        w, h = image_size
        tau = 2 * math.pi
        x = 0.5 * w + 0.36 * w * math.sin(tau * t / self.period + self.phase)
        step = tau * t / self.stride
        y = (0.56 + 0.1 * self.depth) * h - 0.006 * h * (1 - math.cos(2 * step)) / 2
        height = (0.34 + 0.14 * self.depth) * h
        return Figure(walking_pose(step), (x, y), height, 2.0 * math.sin(step / 2),
                      self.palette, 1 if self.track_id % 2 else -1)


def make_walkers(seed: int, num_figures: int) -> List[Walker]:
    """The video's walkers (their palettes drawn from ``seed``)."""
    if not 2 <= num_figures <= MAX_WALKERS:
        raise ValueError(f'num_figures must be 2..{MAX_WALKERS}, got {num_figures}')
    rng = np.random.default_rng([seed, MULTI_CODES['video'], num_figures])
    return [Walker(k + 1, depth, period, phase, stride, Palette.random(rng))
            for k, (depth, period, phase, stride) in enumerate(_PATHS[:num_figures])]


def _scene(seed: int, image_size: Tuple[int, int], num_figures: int
           ) -> Tuple[np.ndarray, List[Walker], np.ndarray]:
    """Background, walkers and light direction (fixed for the whole video)."""
    walkers = make_walkers(seed, num_figures)
    rng = np.random.default_rng([seed, MULTI_CODES['video'], num_figures, 1])
    background = draw_background(rng, image_size[0], image_size[1],
                                 [c for wk in walkers for c in wk.palette.colours()])
    return background, walkers, np.array([-0.6, -0.8])


def _draw(t: int, image_size: Tuple[int, int], scene: Tuple[Any, ...]
          ) -> Tuple[np.ndarray, List[Instance]]:
    background, walkers, light = scene
    placed = sorted(((wk.figure(t, image_size), wk.track_id) for wk in walkers),
                    key=lambda p: (p[0].height, p[1]))            # far ones first
    img = background.copy()
    owner = np.zeros(img.shape[:2], np.uint8)
    for k, (fig, _) in enumerate(placed):
        draw_figure(img, owner, k + 1, fig, light)
    return img, annotate([f for f, _ in placed], owner, [i for _, i in placed])


def render_multi_frame(t: int, seed: int, image_size: Tuple[int, int], num_figures: int = 4
                       ) -> Tuple[np.ndarray, List[Instance]]:
    """Frame ``t`` of the multi-figure video and its instances, back to
    front, with ``track_id``."""
    return _draw(t, image_size, _scene(seed, image_size, num_figures))


def write_multi_video(out: Path, frames: int, fps: int, image_size: Tuple[int, int],
                      seed: int, num_figures: int, tick: Callable[[], None]) -> Dict[str, int]:
    """Write the video, its frames, its truth and its COCO file (module docstring)."""
    w, h = image_size
    scene = _scene(seed, image_size, num_figures)
    truth, coco_images, coco_anns = write_frames(out, 'multi_video.mp4', frames, fps, image_size,
                                                 lambda t: _draw(t, image_size, scene), tick)
    ids = [wk.track_id for wk in scene[1]]
    write_json(out / 'video' / 'multi_video_gt.json', dict(
        video='multi_video.mp4', fps=fps, width=w, height=h, num_frames=frames,
        track_ids=ids, keypoint_names=list(KEYPOINT_NAMES),
        flip_pairs=[list(p) for p in FLIP_PAIRS], skeleton=[list(p) for p in SKELETON],
        frames=truth))
    write_json(out / 'multi_video_coco_joint.json', dict(
        info=dict(description=f'synthetic self5 video, {num_figures} walking figures',
                  generator='customkpt.demo.multi_video', generator_version=GENERATOR_VERSION,
                  seed=seed, fps=fps),
        videos=[dict(id=1, file_name='video/multi_video.mp4', num_frames=frames, fps=fps)],
        images=coco_images, annotations=coco_anns, categories=[coco_category()]))
    return dict(multi_video_frames=frames, multi_video_instances=len(coco_anns))
