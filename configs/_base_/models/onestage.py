# One-stage multi-instance model (objects as centre points, CenterNet-style):
# CSPNeXt backbone -> LiteFPN neck -> CentreHead, on whole images. Per grid
# cell: a heatmap per class, box size, centre offset and, unless
# `with_keypoints = False` (a detector), K keypoint offsets and scores.
# Knobs (set them at the top of a config): `input_size` (w, h), multiples of
# 32; `stride` (4 or 8) of the output grid; `onestage_size` ('t', 's', 'm',
# 'l'); `num_classes` and `category_ids` (the COCO category of each class,
# the dataset reads the same list); `with_keypoints`; `num_joints`;
# `neck_channels`, `head_channels`; `keypoint_loss` ('l1' or 'oks');
# `regression_radius` (cells around a centre that regress it too);
# `keypoint_heatmaps` (K keypoint heatmaps refine the regressed points;
# keypoint models only, set it False for checkpoints trained without them);
# the decoding: `score_thr`, `max_detections`, `nms` ('box', 'oks', 'none'),
# `nms_thr`, `peak_thr` and `snap_distance` (of the keypoint heatmaps).
# docs/onestage.md explains the design.
input_size = (512, 512)
stride = 4
onestage_size = 's'
num_classes = 1
category_ids = [1]
with_keypoints = True
neck_channels = 64
head_channels = 64
keypoint_loss = 'l1'
regression_radius = 0                  # 1: the 3x3 cells around a centre regress it too
keypoint_heatmaps = True               # CenterNet's keypoint-heatmap refinement (not detectors)
score_thr = 0.05
max_detections = 100
nms = 'box'
nms_thr = 0.6
peak_thr = 0.1                         # lowest keypoint-heatmap peak that replaces a point
snap_distance = 0.3                    # ... within this fraction of the longer box side
# size -> (deepen_factor, widen_factor); CSPNeXt stage 1-4 channels (strides 4-32)
cspnext_sizes = dict(t=(0.167, 0.375), s=(0.33, 0.5), m=(0.67, 0.75), l=(1.0, 1.0))
cspnext_channels = dict(t=[48, 96, 192, 384], s=[64, 128, 256, 512], m=[96, 192, 384, 768],
                        l=[128, 256, 512, 1024])
first_level = {4: 0, 8: 1}             # output stride -> the first stage map the neck uses

# The model's codec also encodes the training targets (GenerateCentreTarget).
codec = dict(type='CentreLabel', input_size='${input_size}', stride='${stride}',
             num_classes='${num_classes}', num_keypoints='${num_joints * with_keypoints}',
             regression_radius='${regression_radius}', score_thr='${score_thr}',
             max_detections='${max_detections}', nms='${nms}', nms_thr='${nms_thr}',
             keypoint_heatmaps='${keypoint_heatmaps * with_keypoints}',
             peak_thr='${peak_thr}', snap_distance='${snap_distance}')

# PoseDataPreprocessor's defaults (ImageNet mean and std, BGR -> RGB) and
# CSPNeXt's (P5, channel attention, BN, SiLU) apply.
model = dict(
    type='OneStageEstimator',
    backbone=dict(type='CSPNeXt', deepen_factor='${cspnext_sizes[onestage_size][0]}',
                  widen_factor='${cspnext_sizes[onestage_size][1]}', out_indices=(1, 2, 3, 4)),
    neck=dict(type='LiteFPN', in_channels='${cspnext_channels[onestage_size]}',
              out_channels='${neck_channels}', start_level='${first_level[stride]}'),
    head=dict(type='CentreHead', in_channels='${neck_channels}',
              feat_channels='${head_channels}', keypoint_loss='${keypoint_loss}',
              decoder='${codec}'),
    category_ids='${category_ids}',
    test_cfg=dict(flip_test=False))
