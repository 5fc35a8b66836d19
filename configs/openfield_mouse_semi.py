# Semi-supervised training of the CPU-sized mouse model (openfield_mouse_cpu.py):
# the labelled frames plus short clips of the project's unlabelled video, with
# a temporal-difference, a pose-subspace, a heatmap-shape, a flip-consistency
# and a transformed pseudo-label loss on the model's predictions for the clips
# (docs/semi_supervised.md).
#
# The mouse fills a small part of the 640x480 frame, so the clip frames are
# best cropped around it: track it once with a model trained on the labels,
#   python tools/train.py configs/openfield_mouse_cpu.py
#   python tools/demo_video.py ../shared/data/openfield-mouse/videos/m3v1mp4.mp4 \
#       --config configs/openfield_mouse_cpu.py \
#       --checkpoint work_dirs/openfield_mouse_cpu/best_AUC_epoch_*.pth \
#       --boxes track --out-dir work_dirs/mouse_track --no-video
# and train on the tracked boxes:
#   python tools/train.py configs/openfield_mouse_semi.py \
#       --cfg-options unlabelled_boxes='work_dirs/mouse_track/{stem}_pose.json'
_base_ = ['openfield_mouse_cpu.py']

# ---------------------------------------------------------------- edit these
unlabelled_videos = ['${img_prefix}videos/*.mp4']   # paths or glob patterns
# None: the whole frame; [x1, y1, x2, y2]: a fixed box; a `customkpt video`
# result JSON ({stem}: the video's file stem); or a box-provider config.
unlabelled_boxes = None
clip_length = 3                        # consecutive frames per clip
num_clips = 200                        # clips per video, spread over its length
clips_per_sample = 0.5                 # clips per labelled sample (0.5: 4 per batch of 8)
# Small next to loss_kpt (about 0.01 here): ten times these held the labelled
# loss back and lost accuracy (docs/semi_supervised.md).
temporal_weight = 0.0002               # per pixel of move beyond the dead zone
dead_zone = 8.0                        # pixels a point may move between frames for free
# Off: on this 4-point mouse the pose-subspace term cost accuracy (99 labels:
# EPE 2.83 px with it alone, 2.37 with clips but no loss; docs/benchmarks.md).
# 0.01 (per unit of box-normalised distance) turns it on.
pca_weight = 0
shape_weight = 0.1                     # heatmap MSE to a clean Gaussian
# The frame and its mirror image should give the same points (off; e.g. 1.0:
# heatmap MSE between the two views, the labelled loss's scale).
flip_weight = 0
# The model's confident points on a clip frame, rotated / scaled / shifted
# with the frame, as targets for the transformed frame (off; e.g. 1.0: the
# labelled loss's scale). Costs one more pass over the clip frames.
augment_weight = 0
ramp_epochs = 10                       # the unsupervised losses rise from 0 over these
# ----------------------------------------------------------------------------

semi_supervised = dict(
    videos='${unlabelled_videos}', boxes='${unlabelled_boxes}', clip_length='${clip_length}',
    num_clips='${num_clips}', clips_per_sample='${clips_per_sample}',
    losses=dict(temporal=dict(weight='${temporal_weight}', dead_zone='${dead_zone}'),
                pca=dict(weight='${pca_weight}'),
                shape=dict(weight='${shape_weight}'), flip=dict(weight='${flip_weight}'),
                augment=dict(weight='${augment_weight}')),
    ramp_epochs='${ramp_epochs}')
