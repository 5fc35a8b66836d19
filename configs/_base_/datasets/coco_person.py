# COCO person keypoints (17 points, the built-in `coco` definition) in the
# usual layout under data/coco/. Evaluation uses person detections
# (bbox_file), as published COCO numbers do; set val_bbox_file = None for
# ground-truth boxes.
_base_ = ['coco_keypoint.py']

data_root = 'data/coco/'
train_ann_file = 'annotations/person_keypoints_train2017.json'
val_ann_file = 'annotations/person_keypoints_val2017.json'
train_img_prefix = 'train2017/'
img_prefix = 'val2017/'
val_bbox_file = '${data_root}person_detection_results/COCO_val2017_detections_AP_H_56_person.json'

num_joints = 17
metainfo = dict(preset='coco')  # names, flip pairs, sigmas
