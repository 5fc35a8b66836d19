# HRNet-W32 256x192 trained on COCO + AI Challenger merged onto COCO's 17
# keypoints, evaluated on COCO (model, schedule and metrics from
# hrnet_w32_coco_256x192.py).
#
# AI Challenger's 12 limb points carry COCO's names in the built-in `aic`
# definition (customkpt.core.presets), so they land on the same COCO points by name; its
# `head_top` and `neck` are dropped, and COCO's five face points (nose, eyes,
# ears) stay unannotated (weight 0) on AI Challenger samples.
#
# Check the data first:  python tools/check_dataset.py configs/coco_aic_merge.py
# Train:                 python tools/train.py configs/coco_aic_merge.py
_base_ = ['hrnet_w32_coco_256x192.py']
# ---------------------------------------------------------------- edit these
# By default the small real samples beside the project (../shared/data);
# `{{ fileDirname }}` is this config's folder, so the paths work from any
# working directory. For the full datasets set e.g.
#   coco_root = 'data/coco/'; coco_ann_file = 'annotations/person_keypoints_train2017.json'
#   coco_img_prefix = 'train2017/'
#   aic_root = 'data/aic/'; aic_ann_file = 'annotations/aic_train.json'
#   aic_img_prefix = 'ai_challenger_keypoint_train_20170909/keypoint_train_images_20170902/'
samples_root = '{{ fileDirname }}/../../shared/data/mmpose-samples/'
coco_root = '${samples_root}coco/'
coco_ann_file = 'test_coco.json'
coco_img_prefix = ''
aic_root = '${samples_root}aic/'
aic_ann_file = 'test_aic.json'
aic_img_prefix = ''
val_ann_file = 'test_coco.json'        # evaluated on COCO with ground-truth boxes
sample_ratio = [1.0, 1.0]              # share of each source per epoch: COCO, AIC
batch_size = 64                        # input size, model, schedule: see the base config
# ----------------------------------------------------------------------------

# Evaluation (val/test loaders, metrics) reads these knobs of the base.
data_root = '${coco_root}'
img_prefix = '${coco_img_prefix}'
val_bbox_file = None

coco_metainfo = 'coco'  # built-in definitions (customkpt.core.presets)
aic_metainfo = 'aic'
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MergedKeypointDataset',
        metainfo=coco_metainfo,
        datasets=[
            dict(type='CocoKeypointDataset', data_root='${coco_root}', ann_file='${coco_ann_file}',
                 data_prefix=dict(img='${coco_img_prefix}'), metainfo=coco_metainfo),
            dict(type='CocoKeypointDataset', data_root='${aic_root}', ann_file='${aic_ann_file}',
                 data_prefix=dict(img='${aic_img_prefix}'), metainfo=aic_metainfo),
        ],
        mappings=[None, None],         # by name; or {aic_name: coco_name} / [[aic_i, coco_i]]
        sample_ratio='${sample_ratio}',
        pipeline='${train_pipeline}'))
