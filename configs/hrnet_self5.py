# HRNet-W32 top-down keypoint model, 256x192, on the self5 dataset: five
# points (head, left hand, right hand, left foot, right foot).
# `python tools/make_demo_dataset.py --out data/self5` writes a synthetic
# self5 set in this layout; point `data_root` at your own data to train on it.
# Input size, model and schedule are the bases' defaults (docs/training.md):
# train_size=(192, 256), arch='w32', max_epochs=210, batch_size=64, lr=5e-4.
_base_ = ['_base_/default_runtime.py', '_base_/models/hrnet_topdown.py',
          '_base_/pipelines/topdown.py', '_base_/datasets/coco_keypoint.py',
          '_base_/schedules/adam.py']

# ---------------------------------------------------------------- edit these
data_root = 'data/self5/'
train_ann_file = 'train_coco_joint.json'
val_ann_file = 'val_coco_joint.json'
img_prefix = 'images/'

num_joints = 5
keypoint_names = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
flip_pairs = [[1, 2], [3, 4]]          # 0-based
skeleton = [[0, 1], [0, 2], [0, 3], [0, 4]]
sigmas = [0.026, 0.062, 0.062, 0.089, 0.089]   # OKS sigmas (head ~ nose, hands ~ wrists, feet ~ ankles)
# ----------------------------------------------------------------------------

metainfo = dict(dataset_name='self5', keypoint_names='${keypoint_names}',
                flip_pairs='${flip_pairs}', skeleton='${skeleton}', sigmas='${sigmas}')
default_hooks = dict(checkpoint=dict(save_best='coco/AP', rule='greater'))
