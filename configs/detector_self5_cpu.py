# The self5 figure detector: onestage_self5_cpu.py with the keypoint branch
# off (`with_keypoints = False`), trained on the same json (boxes from
# `bbox`, or from the labelled points where a record has none). Its boxes go
# to top-down models: `customkpt detect` writes a COCO detection file (the
# `bbox_file` of top-down evaluation), `customkpt video --boxes
# detector:...` runs it every frame. docs/onestage.md.
_base_ = ['onestage_self5_cpu.py']

with_keypoints = False

val_evaluator = [dict(type='CocoDetectionMetric', ann_file='${data_root + val_ann_file}')]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='bbox/AP', rule='greater'))
