"""The parts of the demo generator: figure primitives, placement, annotation."""
from __future__ import annotations

import numpy as np

from customkpt.core.boxes import box_iou
from customkpt.demo import Figure, Palette, Pose
from customkpt.demo.coco import coco_annotation, round2
from customkpt.demo.figure import prim_points
from customkpt.demo.scene import _place_figures, annotate


def _figure(back_side: int = 1) -> Figure:
    palette = Palette.random(np.random.default_rng(0))
    return Figure(Pose(), (100.0, 120.0), 120.0, 10.0, palette, back_side)


def test_parts_are_drawn_back_to_front():
    fig = _figure()
    groups = fig.parts()
    # two legs (limb + shoe each), the neck, the torso, two arms, the head
    assert len(groups) == 9
    assert [g[0][0] for g in groups] == ['line', 'circle', 'line', 'circle', 'line', 'poly',
                                         'line', 'line', 'circle']
    left_first = groups[0][0][1]
    np.testing.assert_allclose(left_first, fig.image_joints()['left_hip'])
    np.testing.assert_allclose(_figure(-1).parts()[0][0][1], fig.image_joints()['right_hip'])
    head = groups[-1]
    assert sum(p[0] == 'detail' for p in head) == 4          # face, two eyes, mouth


def test_extent_holds_every_keypoint_and_the_box_is_clipped():
    fig = _figure()
    x0, y0, x1, y1 = fig.extent()
    kp = fig.keypoints()
    assert (kp[:, 0] > x0).all() and (kp[:, 0] < x1).all()
    assert (kp[:, 1] > y0).all() and (kp[:, 1] < y1).all()
    box = fig.box((150, 160))
    assert box[0] >= 0 and box[2] <= 150 and box[3] <= 160
    assert prim_points(('circle', np.array([1.0, 2.0]), 3.0, None))[1] == 4.0


def test_placed_figures_overlap_little():
    for seed in range(20):
        figs = _place_figures(np.random.default_rng(seed), 320, 240, 4, (40.0, 200.0), 45.0,
                              max_iou=0.3)
        boxes = np.stack([f.extent() for f in figs])
        iou = box_iou(boxes, boxes)
        np.fill_diagonal(iou, 0)
        assert iou.max() <= 0.3
        assert [f.height for f in figs] == sorted(f.height for f in figs)


def test_annotate_reads_visibility_from_the_owner_map():
    fig = _figure()
    owner = np.zeros((240, 320), np.uint8)
    kp = fig.keypoints()
    x, y = kp[0].astype(int)
    owner[y, x] = 1                                  # only the head shows its own figure
    (inst,) = annotate([fig], owner, track_ids=[7])
    assert inst.keypoints[:, 2].tolist() == [2, 1, 1, 1, 1] and inst.track_id == 7
    ann = coco_annotation(3, 9, inst)
    assert (ann['id'], ann['image_id'], ann['num_keypoints']) == (3, 9, 5)
    assert ann['keypoints'][:3] == [round2(kp[0, 0]), round2(kp[0, 1]), 2]
    assert ann['area'] == round2(inst.bbox[2] * inst.bbox[3])
