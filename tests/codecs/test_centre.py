"""CentreLabel: encode/decode round trip, the mirrored outputs brought back
(flip_back) on an asymmetric keypoint table, NMS modes and the letterbox."""
import numpy as np
import pytest

from customkpt.codecs import CODECS, CentreLabel, build_codec
from customkpt.codecs.centre import gaussian_radius, letterbox_region, local_maxima
from customkpt.core.flip import flip_boxes, flip_keypoints
from customkpt.registry import KEYPOINT_CODECS

# tests/codecs cannot be a package (it would shadow the stdlib codecs), so
# pytest puts this folder on sys.path and its helpers import by bare name.
from centre_cases import FLIP7, SIZE, _match, _objects


def _as_outputs(targets):
    """Targets as what a perfect model would output."""
    out = {name: targets[name][None] for name in ('centre_heatmap', 'box_size',
                                                  'centre_offset', 'keypoint_offsets')}
    out['keypoint_scores'] = targets['keypoint_visibility'][None]
    return out


@pytest.mark.parametrize('stride', [4, 8])
def test_round_trip_is_within_half_a_pixel(stride):
    codec = CentreLabel(SIZE, stride=stride, num_classes=2, num_keypoints=7, nms='none')
    boxes, labels, kpts, vis = _objects(stride=stride)
    targets = codec.encode(boxes, labels, kpts, vis)
    assert targets['centre_heatmap'].shape == (2, SIZE[1] // stride, SIZE[0] // stride)
    assert int((targets['centre_heatmap'] == 1).sum()) == len(boxes)
    assert targets['centre_weight'].sum() == len(boxes)
    decoded = codec.decode(**{n: v[0] for n, v in _as_outputs(targets).items()})
    assert len(decoded['scores']) >= len(boxes)
    idx = _match(decoded, boxes)
    np.testing.assert_allclose(decoded['scores'][idx], 1.0)
    np.testing.assert_array_equal(decoded['labels'][idx], labels)
    assert np.abs(decoded['bboxes'][idx] - boxes).max() < 0.5
    seen = vis > 0.5
    err = np.linalg.norm(decoded['keypoints'][idx] - kpts, axis=-1)
    assert err[seen].max() < 0.5
    np.testing.assert_array_equal(decoded['keypoint_scores'][idx], seen.astype(np.float32))


def test_flip_back_mirrors_exactly_with_the_asymmetric_table():
    """The targets of the mirrored image, brought back, decode to the
    original objects: same boxes, keypoints in their own slots."""
    codec = CentreLabel(SIZE, stride=4, num_classes=2, num_keypoints=7, nms='none')
    boxes, labels, kpts, vis = _objects(seed=3)
    mirrored_kpts, mirrored_vis = flip_keypoints(kpts, vis, SIZE[0], FLIP7)
    mirrored = codec.encode(flip_boxes(boxes, SIZE[0]), labels, mirrored_kpts, mirrored_vis)
    back = codec.flip_back(_as_outputs(mirrored), FLIP7)
    decoded = codec.batch_decode(**back)[0]
    idx = _match(decoded, boxes)
    np.testing.assert_array_equal(decoded['labels'][idx], labels)
    assert np.abs(decoded['bboxes'][idx] - boxes).max() < 1e-3
    seen = vis > 0.5
    np.testing.assert_array_equal(decoded['keypoint_scores'][idx], seen.astype(np.float32))
    err = np.linalg.norm(decoded['keypoints'][idx] - kpts, axis=-1)
    assert err[seen].max() < 1e-3
    # flipping back twice is the identity (the flip test averages both ways)
    twice = codec.flip_back(codec.flip_back(_as_outputs(mirrored), FLIP7), FLIP7)
    for name, value in _as_outputs(mirrored).items():
        np.testing.assert_allclose(twice[name], value, atol=1e-5)


def test_flip_back_needs_the_table_of_a_keypoint_codec():
    codec = CentreLabel(SIZE, num_keypoints=7)
    outputs = _as_outputs(codec.encode(*_objects()))
    with pytest.raises(ValueError, match='flip_indices'):
        codec.flip_back(outputs, None)
    with pytest.raises(ValueError, match='entries'):
        codec.flip_back(outputs, FLIP7[:6])


def test_box_nms_keeps_classes_apart_and_oks_nms_needs_sigmas():
    codec = CentreLabel((32, 32), stride=4, num_classes=2, num_keypoints=1, nms='box',
                        nms_thr=0.5)
    heat = np.zeros((1, 2, 8, 8), np.float32)
    heat[0, 0, 2, 2], heat[0, 0, 2, 4], heat[0, 1, 2, 3] = 0.9, 0.8, 0.7
    size = np.full((1, 2, 8, 8), 8.0, np.float32)   # 32 px boxes: the class-0 ones overlap
    zeros = np.zeros((1, 2, 8, 8), np.float32)
    outputs = dict(centre_heatmap=heat, box_size=size, centre_offset=zeros,
                   keypoint_offsets=zeros, keypoint_scores=np.ones((1, 1, 8, 8), np.float32))
    out = codec.batch_decode(**outputs)[0]
    np.testing.assert_allclose(out['scores'], [0.9, 0.7])
    np.testing.assert_array_equal(out['labels'], [0, 1])
    oks_codec = build_codec(dict(codec.to_dict(), nms='oks'))
    with pytest.raises(ValueError, match='sigmas'):
        oks_codec.batch_decode(**outputs)
    assert len(oks_codec.batch_decode(**outputs, sigmas=[1.0])[0]['scores']) == 2
    assert len(oks_codec.batch_decode(**outputs, sigmas=[0.01])[0]['scores']) == 3


def test_peaks_radius_and_registry():
    maps = np.array([[[0, 1, 0], [0, 0, 0], [2, 0, 3]]], np.float32)
    np.testing.assert_array_equal(local_maxima(maps)[0],
                                  [[False, True, False], [False, False, False],
                                   [True, False, True]])
    r = gaussian_radius(np.array([10.0, 40.0]), np.array([10.0, 40.0]))
    assert 0 < r[0] < r[1]
    codec = KEYPOINT_CODECS.build(dict(type='CentreLabel', input_size=[64, 32], stride=8))
    assert type(codec) is CODECS['CentreLabel'] and codec.heatmap_size == (8, 4)
    assert build_codec(codec.to_dict()).to_dict() == codec.to_dict()
    with pytest.raises(ValueError, match='multiples'):
        CentreLabel((30, 32), stride=4)
    with pytest.raises(ValueError, match='oks'):
        CentreLabel((32, 32), nms='oks')


def test_letterbox_region_and_to_image_invert_each_other():
    """A 320x240 image on a 128x128 input: grown to a square about its
    centre; objects decoded in input pixels map back to image pixels."""
    centre, size = letterbox_region(320, 240, (128, 128))
    np.testing.assert_allclose(centre, [160, 120])
    np.testing.assert_allclose(size, [320, 320])
    codec = CentreLabel((128, 128), num_keypoints=1)
    objects = dict(bboxes=np.array([[0, 16, 64, 64]], np.float32),
                   keypoints=np.array([[[32, 40]]], np.float32), scores=np.ones(1),
                   labels=np.zeros(1, np.int64), keypoint_scores=np.ones((1, 1)))
    out = codec.to_image(objects, centre, size, (240, 320))
    np.testing.assert_allclose(out['bboxes'], [[0, 0, 160, 120]])
    np.testing.assert_allclose(out['keypoints'], [[[80, 60]]])


def test_neighbour_cells_regress_the_same_object_and_centres_win():
    codec = CentreLabel(SIZE, stride=4, num_classes=2, num_keypoints=7, nms='none',
                        regression_radius=1)
    boxes, labels, kpts, vis = _objects(seed=5, n=2)
    boxes[1] = boxes[0] + 4.0          # the second centre is the first one's neighbour cell
    kpts[1] = kpts[0] + 4.0
    targets = codec.encode(boxes, labels, kpts, vis)
    cells = np.floor((boxes[:, :2] + boxes[:, 2:]) / 2 / 4).astype(int)
    assert np.abs(cells[1] - cells[0]).max() == 1
    assert 9 < targets['centre_weight'].sum() <= 18
    outputs = {n: v[0] for n, v in _as_outputs(targets).items()}
    for i, (x, y) in enumerate(cells):          # each centre keeps its own object
        heat = np.zeros_like(outputs['centre_heatmap'])
        heat[0, y, x] = 1.0
        decoded = codec.decode(**dict(outputs, centre_heatmap=heat))
        assert np.abs(decoded['bboxes'][0] - boxes[i]).max() < 1e-3
    x, y = cells[0] - (cells[1] - cells[0])      # a neighbour of the first centre only
    heat = np.zeros_like(outputs['centre_heatmap'])
    heat[0, y, x] = 1.0
    decoded = codec.decode(**dict(outputs, centre_heatmap=heat))
    assert np.abs(decoded['bboxes'][0] - boxes[0]).max() < 1e-3
    seen = vis[0] > 0.5
    assert np.abs(decoded['keypoints'][0] - kpts[0])[seen].max() < 1e-3



def test_decoding_runs_the_nms_once_per_image(monkeypatch):
    import customkpt.codecs.centre as centre
    calls = []
    real_nms = centre.nms
    monkeypatch.setattr(centre, 'nms', lambda *a, **k: calls.append(1) or real_nms(*a, **k))
    codec = CentreLabel((32, 32), stride=4, num_classes=1, num_keypoints=1, nms='box')
    heat = np.zeros((2, 1, 8, 8), np.float32)
    heat[:, 0, 2, 2], heat[:, 0, 5, 5] = 0.9, 0.8
    zeros = np.zeros((2, 2, 8, 8), np.float32)
    out = codec.batch_decode(centre_heatmap=heat, box_size=np.full((2, 2, 8, 8), 2.0, np.float32),
                             centre_offset=zeros, keypoint_offsets=zeros,
                             keypoint_scores=np.ones((2, 1, 8, 8), np.float32))
    assert [len(o['scores']) for o in out] == [2, 2]
    assert len(calls) == 2
