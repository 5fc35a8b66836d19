# A CPU-sized one-stage multi-instance model on the self5 demo data: every
# figure's box and five keypoints from the whole image in one pass, no
# person detector. CSPNeXt-t at 128x96 (the 320x240 images at 0.4 times
# their size), output grid stride 4 (32x24 cells), keypoint heatmaps
# refining the regressed points. 40 epochs: keypoint AP 0.56 and box AP 0.63
# on the self5 validation images (docs/benchmarks.md); 43 minutes with
# OMP_NUM_THREADS=1 while two other trainings shared the two cores. Design,
# commands and the detector variant: docs/onestage.md. Data:
# _base_/datasets/self5.py.
_base_ = ['_base_/default_runtime.py', '_base_/models/onestage.py',
          '_base_/pipelines/onestage.py', '_base_/datasets/self5.py',
          '_base_/schedules/adam.py']

# ---------------------------------------------------------------- edit these
input_size = (128, 96)                 # network input (w, h), multiples of 32
stride = 4                             # output grid: 32 x 24 cells
onestage_size = 't'
neck_channels = 48
head_channels = 32
category_ids = [1]                     # the self5 category; num_classes = 1
with_keypoints = True                  # False: the detector (detector_self5_cpu.py)
regression_radius = 1                  # the 3x3 cells around a centre regress it too
max_epochs = 40
batch_size = 16
lr = 2e-3
val_interval = 10
lr_policy = 'cosine'
warmup_iters = 50
warmup_factor = 0.01
# ----------------------------------------------------------------------------

train_dataloader = dict(dataset=dict(type='CocoImageDataset', category_ids='${category_ids}'))
val_dataloader = dict(batch_size=16,
                      dataset=dict(type='CocoImageDataset', category_ids='${category_ids}'))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='CocoKeypointMetric', ann_file='${data_root + val_ann_file}'),
    dict(type='CocoDetectionMetric', ann_file='${data_root + val_ann_file}'),
]
test_evaluator = val_evaluator
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(save_best='coco/AP', rule='greater'))
