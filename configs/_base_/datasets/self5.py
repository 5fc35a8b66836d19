# The self5 data set: five points (head, left hand, right hand, left foot,
# right foot) in COCO-keypoint json files.
# `python tools/make_demo_dataset.py --out data/self5` writes a synthetic
# self5 set in this layout; point `data_root` at your own data to train on it.
_base_ = ['coco_keypoint.py']

data_root = 'data/self5/'
train_ann_file = 'train_coco_joint.json'
val_ann_file = 'val_coco_joint.json'
img_prefix = 'images/'

num_joints = 5
keypoint_names = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
flip_pairs = [[1, 2], [3, 4]]          # 0-based
skeleton = [[0, 1], [0, 2], [0, 3], [0, 4]]
# OKS sigmas: head ~ nose, hands ~ wrists, feet ~ ankles.
sigmas = [0.026, 0.062, 0.062, 0.089, 0.089]

metainfo = dict(dataset_name='self5', keypoint_names='${keypoint_names}',
                flip_pairs='${flip_pairs}', skeleton='${skeleton}', sigmas='${sigmas}')
