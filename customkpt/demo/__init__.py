"""Built-in demo data: the synthetic ``self5`` dataset and video.

``self5`` has five keypoints (``head``, ``left_hand``, ``right_hand``,
``left_foot``, ``right_foot``) on stick figures that face the camera; see
:mod:`customkpt.demo.synthetic` for the drawing rules and the file layout.

    from customkpt.demo import SELF5_META, make_self5_dataset
    root = make_self5_dataset('data/self5')        # no-op when already there
"""
from .synthetic import (FLIP_PAIRS, KEYPOINT_NAMES, SELF5_META, SIDE_MARGIN, SKELETON,
                        BuildResult, build_self5_dataset, make_self5_dataset, read_manifest,
                        render_image, render_video_frame)

__all__ = [
    'SELF5_META', 'KEYPOINT_NAMES', 'FLIP_PAIRS', 'SKELETON', 'SIDE_MARGIN', 'BuildResult',
    'build_self5_dataset', 'make_self5_dataset', 'read_manifest', 'render_image',
    'render_video_frame',
]
