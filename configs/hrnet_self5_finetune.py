# Fine-tune HRNet-W32 on self5 from a checkpoint trained on another keypoint
# definition (e.g. COCO's 17 points). Everything else is hrnet_self5.py.
# The backbone and the head channels of points that exist in both
# definitions start from the checkpoint; the other channels start fresh.
# See docs/finetuning.md.
_base_ = ['hrnet_self5.py']

# ---------------------------------------------------------------- edit these
# A customkpt/MMPose top-down checkpoint (path or URL), an ImageNet HRNet
# backbone, a published .safetensors, or a converted PaddleDetection file
# (tools/convert_weights.py). MMPose's COCO HRNet-W32 256x192, for example:
# https://download.openmmlab.com/mmpose/v1/body_2d_keypoint/topdown_heatmap/coco/td-hm_hrnet-w32_8xb64-210e_coco-256x192-81c58e40_20220909.pth
pretrained_checkpoint = 'work_dirs/coco_hrnet_w32/best.pth'
# self5 point -> checkpoint point, for names that differ (same names match
# by themselves, also ignoring case). Unmapped points start fresh.
keypoint_map = dict(head='nose', left_hand='left_wrist', right_hand='right_wrist',
                    left_foot='left_ankle', right_foot='right_ankle')
frozen_stages = 1                      # -1: train all; 0: stem; 1: stem + layer1; up to 4
norm_eval = False                      # True keeps every BatchNorm's statistics fixed
backbone_lr_mult = 0.1                 # backbone learns at lr x this
max_epochs = 60                        # from scratch: 210
milestones = [40, 55]                  # lr x0.1 at these epochs
lr = 2e-4                              # from scratch: 5e-4
val_interval = 5
warmup_factor = 0.01
warmup_iters = 200
# ----------------------------------------------------------------------------

model = dict(
    # The head's channels are matched by these names in init_weights(), which
    # runs before the dataset is built, so the model carries the definition.
    metainfo='${metainfo}',
    backbone=dict(frozen_stages='${frozen_stages}', norm_eval='${norm_eval}'),
    pretrained=dict(checkpoint='${pretrained_checkpoint}', keypoint_map='${keypoint_map}'))
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult='${backbone_lr_mult}')}))
