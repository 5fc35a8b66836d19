# The open-field mouse DeepLabCut project (4 points: snout, left ear, right
# ear, tail base). Convert it first:
#   python tools/convert_dataset.py dlc ../shared/data/openfield-mouse \
#       data/openfield_mouse --val-every 7
# The converted json lists image paths relative to the DeepLabCut project,
# so the images are read from there (img_prefix). PCK is the main metric
# (the mouse configs keep the best checkpoint by `AUC`).
_base_ = ['coco_keypoint.py']

data_root = ''
train_ann_file = 'data/openfield_mouse/train.json'
val_ann_file = 'data/openfield_mouse/val.json'
img_prefix = '../shared/data/openfield-mouse/'

# Names, flip pairs (leftear <-> rightear) and skeleton come from the
# converted json's category; these keys check and complete them.
num_joints = 4
sigmas = [0.026, 0.035, 0.035, 0.107]  # snout ~ nose, ears ~ ears, tail base ~ hips

metainfo = dict(dataset_name='openfield_mouse', sigmas='${sigmas}')
val_evaluator = [
    dict(type='PCKAccuracy', thr=0.05, norm_item='bbox'),
    dict(type='CocoKeypointMetric', ann_file='${data_root + val_ann_file}'),
]
test_evaluator = val_evaluator
