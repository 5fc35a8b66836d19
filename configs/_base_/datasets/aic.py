# AI Challenger human keypoints: 14 points, in MMPose's metainfo-file layout.
# The limb points carry COCO's names, so merging AI Challenger onto COCO's
# definition matches them by name; `head_top` and `neck` have no COCO twin.
# (The AI Challenger json's own category calls them "Right Shoulder", ...;
# this file's names replace those.)
_L, _R, _C = [255, 128, 0], [0, 255, 0], [51, 153, 255]

dataset_info = dict(
    dataset_name='aic',
    keypoint_info={
        0: dict(name='right_shoulder', id=0, color=_R, type='upper', swap='left_shoulder'),
        1: dict(name='right_elbow', id=1, color=_R, type='upper', swap='left_elbow'),
        2: dict(name='right_wrist', id=2, color=_R, type='upper', swap='left_wrist'),
        3: dict(name='left_shoulder', id=3, color=_L, type='upper', swap='right_shoulder'),
        4: dict(name='left_elbow', id=4, color=_L, type='upper', swap='right_elbow'),
        5: dict(name='left_wrist', id=5, color=_L, type='upper', swap='right_wrist'),
        6: dict(name='right_hip', id=6, color=_R, type='lower', swap='left_hip'),
        7: dict(name='right_knee', id=7, color=_R, type='lower', swap='left_knee'),
        8: dict(name='right_ankle', id=8, color=_R, type='lower', swap='left_ankle'),
        9: dict(name='left_hip', id=9, color=_L, type='lower', swap='right_hip'),
        10: dict(name='left_knee', id=10, color=_L, type='lower', swap='right_knee'),
        11: dict(name='left_ankle', id=11, color=_L, type='lower', swap='right_ankle'),
        12: dict(name='head_top', id=12, color=_C, type='upper', swap=''),
        13: dict(name='neck', id=13, color=_C, type='upper', swap=''),
    },
    skeleton_info={
        0: dict(link=('right_wrist', 'right_elbow'), id=0, color=_R),
        1: dict(link=('right_elbow', 'right_shoulder'), id=1, color=_R),
        2: dict(link=('right_shoulder', 'neck'), id=2, color=_C),
        3: dict(link=('neck', 'left_shoulder'), id=3, color=_C),
        4: dict(link=('left_shoulder', 'left_elbow'), id=4, color=_L),
        5: dict(link=('left_elbow', 'left_wrist'), id=5, color=_L),
        6: dict(link=('right_ankle', 'right_knee'), id=6, color=_R),
        7: dict(link=('right_knee', 'right_hip'), id=7, color=_R),
        8: dict(link=('right_hip', 'left_hip'), id=8, color=_C),
        9: dict(link=('left_hip', 'left_knee'), id=9, color=_L),
        10: dict(link=('left_knee', 'left_ankle'), id=10, color=_L),
        11: dict(link=('head_top', 'neck'), id=11, color=_C),
        12: dict(link=('right_shoulder', 'right_hip'), id=12, color=_C),
        13: dict(link=('left_shoulder', 'left_hip'), id=13, color=_C),
    },
    joint_weights=[1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.],
    # AI Challenger's published OKS sigmas (its keypoint evaluation).
    sigmas=[0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144,
            0.03909642, 0.03686941, 0.01981803, 0.03843971, 0.03412318, 0.02415081,
            0.01291456, 0.01236173])
