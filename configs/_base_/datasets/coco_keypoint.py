# COCO-format keypoint annotations: the train/val/test loaders, COCO AP and
# PCK. Knobs: `data_root`, `train_ann_file`, `val_ann_file`, `img_prefix`
# (`train_img_prefix` defaults to it), `metainfo` (a dict merged into the one
# below, or a metainfo file path), `batch_size`, `val_bbox_file` (person
# detections for evaluation; None: ground-truth boxes). The loaders read
# `train_pipeline` and `val_pipeline`.
train_img_prefix = '${img_prefix}'
val_bbox_file = None
batch_size = 64
metainfo = dict(num_joints='${num_joints}')   # checked against the annotation file

train_dataloader = dict(
    batch_size='${batch_size}', num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='CocoKeypointDataset', data_root='${data_root}',
                 ann_file='${train_ann_file}', data_prefix=dict(img='${train_img_prefix}'),
                 metainfo='${metainfo}', pipeline='${train_pipeline}'))
val_dataloader = dict(
    batch_size=32, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CocoKeypointDataset', data_root='${data_root}',
                 ann_file='${val_ann_file}', data_prefix=dict(img='${img_prefix}'),
                 metainfo='${metainfo}', test_mode=True, bbox_file='${val_bbox_file}',
                 pipeline='${val_pipeline}'))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='CocoKeypointMetric', ann_file='${data_root + val_ann_file}'),
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
]
test_evaluator = val_evaluator
