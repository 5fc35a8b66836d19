"""Built-in demo data: the synthetic ``self5`` dataset and video.

``self5`` has five keypoints (``head``, ``left_hand``, ``right_hand``,
``left_foot``, ``right_foot``) on stick figures that face the camera:
:mod:`customkpt.demo.figure` has the definition and the figures,
:mod:`customkpt.demo.scene` the drawing of an image and its labels,
:mod:`customkpt.demo.video` the demo video and :mod:`customkpt.demo.dataset`
the file layout.

    from customkpt.demo import SELF5_META, make_self5_dataset
    root = make_self5_dataset('data/self5')        # no-op when already there
"""
from .dataset import BuildResult, build_self5_dataset, make_self5_dataset, read_manifest
from .figure import (FLIP_PAIRS, KEYPOINT_NAMES, SELF5_META, SIDE_MARGIN, SIGMAS, SKELETON,
                     Figure, Palette, Pose, sample_pose)
from .scene import Instance, render_image
from .video import render_video_frame, video_figures

__all__ = [
    'SELF5_META', 'KEYPOINT_NAMES', 'FLIP_PAIRS', 'SKELETON', 'SIGMAS', 'SIDE_MARGIN',
    'BuildResult', 'build_self5_dataset', 'make_self5_dataset', 'read_manifest',
    'render_image', 'render_video_frame', 'video_figures', 'Figure', 'Palette', 'Pose',
    'Instance', 'sample_pose',
]
