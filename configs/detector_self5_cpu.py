# The self5 figure detector: onestage_self5_cpu.py with the keypoint branch
# off (`with_keypoints = False`), trained on the same json (boxes from
# `bbox`, or from the labelled points where a record has none). Its boxes go
# to top-down models: `customkpt detect` writes a COCO detection file (the
# `bbox_file` of top-down evaluation), `customkpt video --boxes
# detector:...` runs it every frame. docs/onestage.md.
#
# 40 epochs: box AP 0.63 on the self5 validation images with the flip test
# (0.59 without it, 0.27 after 8 epochs), and the main job's HRNet on these
# boxes keeps 0.95 of its ground-truth-box AP (0.93 without the flip test;
# docs/benchmarks.md). 46 minutes with OMP_NUM_THREADS=1 while three other
# trainings shared the two cores.
_base_ = ['onestage_self5_cpu.py']

with_keypoints = False                 # the schedule is the base's: 40 epochs
# The flip test (the mirrored image's outputs averaged in) costs a second
# forward pass per image and gains 0.04 box AP; the exported model and the
# video box provider follow this setting.
model = dict(test_cfg=dict(flip_test=True))

val_evaluator = [dict(type='CocoDetectionMetric', ann_file='${data_root + val_ann_file}')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='bbox/AP', rule='greater'))
