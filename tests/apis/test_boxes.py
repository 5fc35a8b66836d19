"""Box providers: full frame, box file, keypoint tracking."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from customkpt.apis.boxes import (BoxFileBoxes, FullFrameBoxes, KeypointTrackingBoxes,
                                  build_box_provider)
from customkpt.registry import BOX_PROVIDERS

FRAME = np.zeros((100, 200, 3), np.uint8)  # h=100, w=200


def test_full_frame_from_config():
    provider = BOX_PROVIDERS.build(dict(type='FullFrameBoxes'))
    assert isinstance(provider, FullFrameBoxes)
    boxes, scores = provider(FRAME, 0, None)
    np.testing.assert_array_equal(boxes, [[0, 0, 200, 100]])
    assert boxes.dtype == np.float32 and scores.tolist() == [1.0]


def test_build_box_provider_passes_objects_and_rejects_junk():
    provider = FullFrameBoxes()
    assert build_box_provider(provider) is provider
    assert isinstance(build_box_provider(None), FullFrameBoxes)
    with pytest.raises(TypeError, match='type'):
        build_box_provider(dict(score_thr=0.5))


def _write(path: Path, records) -> Path:
    path.write_text(json.dumps(records))
    return path


def test_box_file_from_config(tmp_path):
    path = _write(tmp_path / 'dets.json', [
        dict(image_id=3, bbox=[10, 20, 30, 40], score=0.9, category_id=1),
        dict(image_id=3, bbox=[150, 50, 100, 100], score=0.95, category_id=1),  # clipped
        dict(image_id=3, bbox=[0, 0, 5, 5], score=0.1, category_id=1),     # below score_thr
        dict(image_id=3, bbox=[0, 0, 5, 5], score=0.8, category_id=2),     # other category
        dict(image_id=4, bbox=[1, 2, 3, 4], category_id=1),                # score defaults to 1
    ])
    provider = BOX_PROVIDERS.build(dict(type='BoxFileBoxes', path=str(path), score_thr=0.5,
                                        category_id=1))
    boxes, scores = provider(FRAME, 3, None)
    np.testing.assert_allclose(boxes, [[150, 50, 200, 100], [10, 20, 40, 60]])  # best first
    np.testing.assert_allclose(scores, [0.95, 0.9])
    boxes, scores = provider(FRAME, 4, None)
    np.testing.assert_allclose(boxes, [[1, 2, 4, 6]])
    assert scores.tolist() == [1.0]
    boxes, scores = provider(FRAME, 0, None)
    assert boxes.shape == (0, 4) and scores.shape == (0,)
    assert provider.frames == [3, 4]


def test_box_file_frame_key_and_offset(tmp_path):
    path = _write(tmp_path / 'dets.json', [dict(frame=1, bbox=[0, 0, 10, 10], score=0.5)])
    provider = BoxFileBoxes(path, id_key='frame', id_offset=1)
    assert provider(FRAME, 0, None)[0].shape == (1, 4)
    assert provider(FRAME, 1, None)[0].shape == (0, 4)


@pytest.mark.parametrize('record, field', [
    (dict(image_id=1, bbox=[0, 0, 10], score=1), 'bbox'),
    (dict(image_id=1, bbox=[0, 0, 'a', 2], score=1), 'bbox'),
    (dict(image_id=1, bbox=[0, 0, -3, 2], score=1), 'negative'),
    (dict(image_id='x', bbox=[0, 0, 3, 2], score=1), 'image_id'),
    (dict(image_id=1.5, bbox=[0, 0, 3, 2], score=1), 'image_id'),
    (dict(image_id=1, bbox=[0, 0, 3, 2], score='high'), 'score'),
])
def test_box_file_bad_record_named(tmp_path, record, field):
    path = _write(tmp_path / 'dets.json', [dict(image_id=0, bbox=[0, 0, 1, 1], score=1), record])
    with pytest.raises(ValueError, match=rf'dets.json: record 1: .*{field}'):
        BoxFileBoxes(path)


def test_box_file_bad_files_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        BoxFileBoxes(tmp_path / 'missing.json')
    (tmp_path / 'bad.json').write_text('{not json')
    with pytest.raises(ValueError, match='bad.json: not valid JSON'):
        BoxFileBoxes(tmp_path / 'bad.json')
    _write(tmp_path / 'obj.json', dict(image_id=1))
    with pytest.raises(ValueError, match='obj.json: expected a list'):
        BoxFileBoxes(tmp_path / 'obj.json')
    with pytest.raises(ValueError, match='id_key'):
        BoxFileBoxes(tmp_path / 'obj.json', id_key='frame_id')


def _previous(keypoints, scores):
    kpts = np.asarray(keypoints, np.float32)
    return dict(keypoints=kpts, keypoint_scores=np.asarray(scores, np.float32),
                bboxes=np.zeros((len(kpts), 4), np.float32))


def test_tracking_boxes_from_config_follow_keypoints():
    provider = BOX_PROVIDERS.build(dict(type='KeypointTrackingBoxes', score_thr=0.3,
                                        padding=2.0, min_points=2))
    # First frame: no previous -> fallback (full frame).
    boxes, _ = provider(FRAME, 0, None)
    np.testing.assert_array_equal(boxes, [[0, 0, 200, 100]])
    assert provider.lost
    # Confident points span x 40..60, y 30..50 (the low-score point is ignored).
    prev = _previous([[[40, 30], [60, 50], [190, 95]]], [[0.9, 0.8, 0.1]])
    boxes, scores = provider(FRAME, 1, prev)
    np.testing.assert_allclose(boxes, [[30, 20, 70, 60]])
    np.testing.assert_allclose(scores, [0.85], rtol=1e-6)
    assert not provider.lost
    # The subject moved right by 50 px: the box follows.
    prev = _previous([[[90, 30], [110, 50], [0, 0]]], [[0.9, 0.8, 0.1]])
    np.testing.assert_allclose(provider(FRAME, 2, prev)[0], [[80, 20, 120, 60]])


def test_tracking_boxes_fall_back_when_lost():
    fallback_calls = []

    def fallback(frame, idx, previous):
        fallback_calls.append(idx)
        return np.array([[1, 2, 3, 4]], np.float32), np.array([0.5], np.float32)

    provider = KeypointTrackingBoxes(score_thr=0.3, min_points=2, fallback=fallback)
    # Only one confident point.
    boxes, _ = provider(FRAME, 5, _previous([[[40, 30], [60, 50]]], [[0.9, 0.2]]))
    np.testing.assert_array_equal(boxes, [[1, 2, 3, 4]])
    # Two points above score_thr but their mean is below min_mean_score.
    provider = KeypointTrackingBoxes(score_thr=0.3, min_mean_score=0.5, fallback=fallback)
    provider(FRAME, 6, _previous([[[40, 30], [60, 50]]], [[0.4, 0.4]]))
    # No instances at all.
    provider(FRAME, 7, _previous(np.zeros((0, 2, 2)), np.zeros((0, 2))))
    assert fallback_calls == [5, 6, 7]


def test_tracking_boxes_min_size_clip_and_refresh():
    def fallback(frame, idx, previous):
        return (np.array([[100, 10, 120, 40], [0, 0, 30, 30]], np.float32),
                np.array([0.7, 0.6], np.float32))

    provider = KeypointTrackingBoxes(padding=1.0, min_size=20, fallback=fallback,
                                     refresh_interval=10)
    prev = _previous([[[5, 5], [6, 6]]], [[0.9, 0.9]])  # tiny extent at the corner
    boxes, _ = provider(FRAME, 3, prev)
    np.testing.assert_allclose(boxes, [[0, 0, 20, 20]])  # 20 px box, moved inside the frame
    # Frame 10: the fallback's new box is added, the one over the followed box is not.
    boxes, scores = provider(FRAME, 10, prev)
    np.testing.assert_allclose(boxes, [[0, 0, 20, 20], [100, 10, 120, 40]])
    np.testing.assert_allclose(scores, [0.9, 0.7])


def test_tracking_boxes_hold_when_the_fallback_cannot_be_followed():
    """A model too unsure to follow even the fallback's box: the fallback is
    asked once, its box is then held and the fallback tried again only every
    ``retry_interval`` frames."""
    calls = []

    def fallback(frame, idx, previous):
        calls.append(idx)
        return np.array([[0, 0, 200, 100]], np.float32), np.ones(1, np.float32)

    provider = KeypointTrackingBoxes(fallback=fallback, retry_interval=10)
    unsure = dict(_previous([[[40, 30], [60, 50]]], [[0.1, 0.1]]),
                  bboxes=np.array([[0, 0, 200, 100]], np.float32),
                  bbox_scores=np.array([0.7], np.float32))
    boxes, scores = provider(FRAME, 0, None)
    assert provider.lost and not provider.held
    for idx in range(1, 25):
        boxes, scores = provider(FRAME, idx, unsure)
        if idx not in (10, 20):
            assert provider.held and not provider.lost
            np.testing.assert_array_equal(boxes, unsure['bboxes'])
            np.testing.assert_allclose(scores, [0.7])
    assert calls == [0, 10, 20]
    # Confident again: followed, and a later loss asks the fallback at once.
    provider(FRAME, 25, _previous([[[40, 30], [60, 50]]], [[0.9, 0.9]]))
    assert not provider.lost and not provider.held
    provider(FRAME, 26, unsure)
    assert provider.lost and calls == [0, 10, 20, 26]
    # retry_interval=0: the fallback on every lost frame, as without holding.
    provider = KeypointTrackingBoxes(fallback=fallback, retry_interval=0)
    calls.clear()
    for idx in range(4):
        provider(FRAME, idx, None if idx == 0 else unsure)
    assert calls == [0, 1, 2, 3]


def test_floor_sized_boxes_move_inside_the_frame():
    from customkpt.apis.boxes import shift_inside

    provider = KeypointTrackingBoxes(padding=1.0, min_size=60)
    # Points near the right edge of a 200 x 100 frame: a 60 px box, moved in.
    boxes, _ = provider.boxes_from_keypoints(np.array([[[190, 50], [195, 55]]], np.float32),
                                             np.array([[0.9, 0.9]], np.float32), FRAME.shape)
    np.testing.assert_allclose(boxes, [[140, 22.5, 200, 82.5]])
    # A box larger than the frame along an axis is clipped there, not moved.
    np.testing.assert_allclose(shift_inside(np.array([[-10, -50, 30, 150]]), FRAME.shape),
                               [[0, -50, 40, 150]])
