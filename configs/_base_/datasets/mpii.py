# MPII Human Pose: 16 joints, in MMPose's metainfo-file layout. The same
# definition is built into customkpt.datasets.mpii (MPII_METAINFO), which
# MpiiDataset uses by default; this file is its export for configs and tools.
_L, _R, _C = [255, 128, 0], [0, 255, 0], [51, 153, 255]

dataset_info = dict(
    dataset_name='mpii',
    keypoint_info={
        0: dict(name='r_ankle', id=0, color=_R, type='lower', swap='l_ankle'),
        1: dict(name='r_knee', id=1, color=_R, type='lower', swap='l_knee'),
        2: dict(name='r_hip', id=2, color=_R, type='lower', swap='l_hip'),
        3: dict(name='l_hip', id=3, color=_L, type='lower', swap='r_hip'),
        4: dict(name='l_knee', id=4, color=_L, type='lower', swap='r_knee'),
        5: dict(name='l_ankle', id=5, color=_L, type='lower', swap='r_ankle'),
        6: dict(name='pelvis', id=6, color=_C, type='lower', swap=''),
        7: dict(name='thorax', id=7, color=_C, type='upper', swap=''),
        8: dict(name='upper_neck', id=8, color=_C, type='upper', swap=''),
        9: dict(name='head_top', id=9, color=_C, type='upper', swap=''),
        10: dict(name='r_wrist', id=10, color=_R, type='upper', swap='l_wrist'),
        11: dict(name='r_elbow', id=11, color=_R, type='upper', swap='l_elbow'),
        12: dict(name='r_shoulder', id=12, color=_R, type='upper', swap='l_shoulder'),
        13: dict(name='l_shoulder', id=13, color=_L, type='upper', swap='r_shoulder'),
        14: dict(name='l_elbow', id=14, color=_L, type='upper', swap='r_elbow'),
        15: dict(name='l_wrist', id=15, color=_L, type='upper', swap='r_wrist'),
    },
    skeleton_info={
        0: dict(link=('r_ankle', 'r_knee'), id=0, color=_R),
        1: dict(link=('r_knee', 'r_hip'), id=1, color=_R),
        2: dict(link=('r_hip', 'pelvis'), id=2, color=_R),
        3: dict(link=('pelvis', 'l_hip'), id=3, color=_L),
        4: dict(link=('l_hip', 'l_knee'), id=4, color=_L),
        5: dict(link=('l_knee', 'l_ankle'), id=5, color=_L),
        6: dict(link=('pelvis', 'thorax'), id=6, color=_C),
        7: dict(link=('thorax', 'upper_neck'), id=7, color=_C),
        8: dict(link=('upper_neck', 'head_top'), id=8, color=_C),
        9: dict(link=('thorax', 'r_shoulder'), id=9, color=_R),
        10: dict(link=('r_shoulder', 'r_elbow'), id=10, color=_R),
        11: dict(link=('r_elbow', 'r_wrist'), id=11, color=_R),
        12: dict(link=('thorax', 'l_shoulder'), id=12, color=_L),
        13: dict(link=('l_shoulder', 'l_elbow'), id=13, color=_L),
        14: dict(link=('l_elbow', 'l_wrist'), id=14, color=_L),
    },
    # Loss weights: knees and elbows 1.2, ankles and wrists 1.5.
    joint_weights=[1.5, 1.2, 1., 1., 1.2, 1.5, 1., 1., 1., 1., 1.5, 1.2, 1., 1., 1.2, 1.5],
    # The OKS sigmas published with MPII tools (MPII itself is scored by PCKh).
    sigmas=[0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062,
            0.072, 0.179, 0.179, 0.072, 0.062])
