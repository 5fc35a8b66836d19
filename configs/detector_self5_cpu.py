# The self5 figure detector: onestage_self5_cpu.py with the keypoint branch
# off (`with_keypoints = False`), trained on the same json (boxes from
# `bbox`, or from the labelled points where a record has none). Its boxes go
# to top-down models: `customkpt detect` writes a COCO detection file (the
# `bbox_file` of top-down evaluation), `customkpt video --boxes
# detector:...` runs it every frame. docs/onestage.md.
#
# 40 epochs: box AP 0.59 on the self5 validation images (0.27 after 8), and
# the main job's HRNet on these boxes keeps 0.93 of its ground-truth-box AP;
# with `customkpt detect --flip-test` (the mirrored image averaged in, two
# forward passes) box AP 0.63 and 0.95 (docs/benchmarks.md). Video keeps one
# pass per frame: there the flip test missed more figures at the box
# threshold. 46 minutes with OMP_NUM_THREADS=1 while three other trainings
# shared the two cores.
_base_ = ['onestage_self5_cpu.py']

with_keypoints = False                 # the schedule is the base's: 40 epochs

val_evaluator = [dict(type='CocoDetectionMetric', ann_file='${data_root + val_ann_file}')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='bbox/AP', rule='greater'))
