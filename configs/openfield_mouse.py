# HRNet-W32 top-down model on a DeepLabCut project: the open-field mouse
# (4 points: snout, left ear, right ear, tail base). Convert it first:
#   python tools/convert_dataset.py dlc ../shared/data/openfield-mouse \
#       data/openfield_mouse --val-every 7
# The converted json lists image paths relative to the DeepLabCut project,
# so the images are read from there (img_prefix). Input 256x192 (the default).
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/coco_keypoint.py',
          '_base_/schedules/adam.py']

# ---------------------------------------------------------------- edit these
data_root = ''
train_ann_file = 'data/openfield_mouse/train.json'
val_ann_file = 'data/openfield_mouse/val.json'
img_prefix = '../shared/data/openfield-mouse/'

# Names, flip pairs (leftear <-> rightear) and skeleton come from the
# converted json's category; these keys check and complete them.
num_joints = 4
sigmas = [0.026, 0.035, 0.035, 0.107]  # snout ~ nose, ears ~ ears, tail base ~ hips

arch = 'w32'                           # HRNet width: tiny, w18, w32, w48
max_epochs = 30
batch_size = 8
lr = 1e-3
val_interval = 5
# 13 iterations per epoch: a short warm-up, then a cosine decay over the run.
warmup_iters = 30
warmup_factor = 0.01
lr_policy = 'cosine'
# ----------------------------------------------------------------------------

metainfo = dict(dataset_name='openfield_mouse', sigmas='${sigmas}')
# unbiased=True decodes with DARK (sub-pixel refinement on the blurred log-heatmap).
codec = dict(unbiased=True)
# 116 frames: decode each PNG once per worker; no half-body crops.
train_pipeline = [dict(type='LoadImage', cache='memory')] + [
    step for step in _base_.train_pipeline[1:] if step['type'] != 'RandomHalfBody']
val_evaluator = _base_.val_evaluator[::-1]   # PCK first
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='PCK', rule='greater'))
