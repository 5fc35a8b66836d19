"""CentreLabel's keypoint heatmaps: the targets of a hand-made case, the
snapping of regressed points onto planted peaks (inside the box, above the
threshold, near enough), the mirrored maps brought back with an asymmetric
table, and codecs without them decoding as before."""
import numpy as np
import pytest

from customkpt.codecs import CentreLabel, build_codec
from customkpt.codecs.centre import gaussian_radius
from customkpt.core.flip import flip_boxes, flip_keypoints

# tests/codecs cannot be a package (it would shadow the stdlib codecs), so
# pytest puts this folder on sys.path and its helpers import by bare name.
from centre_cases import FLIP7, SIZE, _match, _objects

BOX = np.array([[4, 4, 28, 28]], np.float32)       # 6 x 6 cells at stride 4


def _codec(**kwargs):
    return CentreLabel(**dict(dict(input_size=(32, 32), stride=4, num_keypoints=3,
                                   keypoint_heatmaps=True, nms='none'), **kwargs))


def test_targets_of_a_hand_made_case():
    """Point 0 labelled (its cell's value exactly 1, its sub-cell offset);
    point 1 outside the input, point 2 unlabelled: nothing for them."""
    codec = _codec()
    kpts = np.array([[[9.0, 13.0], [40.0, 5.0], [20.0, 20.0]]], np.float32)
    vis = np.array([[1.0, 1.0, 0.0]], np.float32)
    t = codec.encode(BOX, np.array([0]), kpts, vis)
    heat = t['keypoint_heatmap']
    assert heat.shape == (3, 8, 8) and t['keypoint_heatmap_offset'].shape == (2, 8, 8)
    assert heat[0, 3, 2] == 1.0 and int((heat[0] == 1).sum()) == 1
    sigma = (2 * int(gaussian_radius(6.0, 6.0)) + 1) / 6      # the box's radius rule
    np.testing.assert_allclose(heat[0, 3, 3], np.exp(-1 / (2 * sigma ** 2)), rtol=1e-6)
    np.testing.assert_allclose(heat[0, 4, 3], np.exp(-2 / (2 * sigma ** 2)), rtol=1e-6)
    assert heat[0, 3, 2 + int(3 * sigma) + 1] == 0                # outside its window
    assert not heat[1:].any()
    weight = np.zeros((1, 8, 8), np.float32)
    weight[0, 3, 2] = 1
    np.testing.assert_array_equal(t['keypoint_heatmap_weight'], weight)
    np.testing.assert_allclose(t['keypoint_heatmap_offset'][:, 3, 2], [0.25, 0.25])
    assert np.count_nonzero(t['keypoint_heatmap_offset']) == 2
    # a larger box: a wider Gaussian around the same point
    wide = codec.encode(np.array([[0, 0, 32, 32]], np.float32), np.array([0]), kpts, vis)
    assert wide['keypoint_heatmap'][0, 3, 4] > heat[0, 3, 4]
    # without keypoint heatmaps the targets are the regression's alone
    plain = _codec(keypoint_heatmaps=False).encode(BOX, np.array([0]), kpts, vis)
    assert set(plain) == set(t) - {'keypoint_heatmap', 'keypoint_heatmap_offset',
                                   'keypoint_heatmap_weight'}
    for name, value in plain.items():
        np.testing.assert_array_equal(value, t[name])


def _outputs():
    """One object at (16, 16) with the box [8, 8, 24, 24]; point 0 regressed
    at (12, 12), point 1 at (23, 20), point 2 at (16, 10); score 0.8 each."""
    grid = (1, 8, 8)
    heat = np.zeros((1, 1, 8, 8), np.float32)
    heat[0, 0, 4, 4] = 0.9
    offsets = np.zeros((1, 6, 8, 8), np.float32)
    offsets[0, :, 4, 4] = [-1, -1, 1.75, 1, 0, -1.5]
    out = dict(centre_heatmap=heat, box_size=np.full((1, 2, 8, 8), 4.0, np.float32),
               centre_offset=np.zeros((1, 2, 8, 8), np.float32), keypoint_offsets=offsets,
               keypoint_scores=np.full((1, 3, 8, 8), 0.8, np.float32),
               keypoint_heatmap=np.zeros((1, 3, 8, 8), np.float32),
               keypoint_heatmap_offset=np.full((1, 2) + grid[1:], 0.5, np.float32))
    peaks = out['keypoint_heatmap'][0]
    peaks[0, 3, 2] = 0.7       # (10, 14): inside the box, 2.8 px away -> taken
    peaks[0, 1, 1] = 0.95      # (6, 6): higher but farther and outside the box
    peaks[1, 5, 6] = 0.9       # (26, 22): the nearest candidate of point 1, outside the box
    peaks[1, 4, 4] = 0.05      # (19.6, 19.6): inside, nearer, but below peak_thr
    out['keypoint_heatmap_offset'][0, :, 4, 4] = 0.9
    peaks[2, 5, 4] = 0.6       # (18, 22): inside the box but 12 px away (> 0.3 * 16)
    return out


def test_decoding_snaps_to_a_planted_peak_inside_the_box_only():
    out = _codec().decode(**{n: v[0] for n, v in _outputs().items()})
    np.testing.assert_allclose(out['bboxes'], [[8, 8, 24, 24]])
    np.testing.assert_allclose(out['keypoints'][0], [[10, 14], [23, 20], [16, 10]])
    np.testing.assert_allclose(out['keypoint_scores'][0], [0.7, 0.8, 0.8])
    # no distance limit: the far peak inside the box is taken too
    loose = _codec(snap_distance=None).decode(**{n: v[0] for n, v in _outputs().items()})
    np.testing.assert_allclose(loose['keypoints'][0], [[10, 14], [23, 20], [18, 22]])
    np.testing.assert_allclose(loose['keypoint_scores'][0], [0.7, 0.8, 0.6])
    # a lower threshold lets the weak peak in
    low = _codec(peak_thr=0.01).decode(**{n: v[0] for n, v in _outputs().items()})
    np.testing.assert_allclose(low['keypoints'][0, 1], [19.6, 19.6], rtol=1e-6)


def test_a_codec_without_keypoint_heatmaps_decodes_the_regression():
    """The extra maps are ignored; an old sidecar's codec (no such keys)
    builds without them and decodes the same."""
    outputs = _outputs()
    codec = _codec(keypoint_heatmaps=False)
    old = codec.to_dict()
    for key in ('keypoint_heatmaps', 'peak_thr', 'snap_distance'):
        del old[key]
    old_codec = build_codec(old)
    assert not old_codec.keypoint_heatmaps and 'keypoint_heatmap' not in old_codec.output_names
    for c in (codec, old_codec):
        out = c.batch_decode(**outputs)[0]
        np.testing.assert_allclose(out['keypoints'][0], [[12, 12], [23, 20], [16, 10]])
        np.testing.assert_allclose(out['keypoint_scores'][0], [0.8] * 3)
    with pytest.raises(ValueError, match='keypoint_heatmap is missing'):
        _codec().batch_decode(**{n: v for n, v in outputs.items() if n != 'keypoint_heatmap'})
    with pytest.raises(ValueError, match='needs keypoints'):
        CentreLabel((32, 32), num_keypoints=0, keypoint_heatmaps=True)
    assert _codec().output_channels() == dict(
        centre_heatmap=1, box_size=2, centre_offset=2, keypoint_offsets=6, keypoint_scores=3,
        keypoint_heatmap=3, keypoint_heatmap_offset=2)
    assert build_codec(_codec().to_dict()).to_dict() == _codec().to_dict()


def _as_outputs(t, noise=0.0):
    """Targets as a model's outputs, the regressed offsets moved by up to
    ``noise`` cells so that only the heatmap peaks give exact points."""
    out = {n: t[n][None] for n in ('centre_heatmap', 'box_size', 'centre_offset',
                                   'keypoint_offsets', 'keypoint_heatmap',
                                   'keypoint_heatmap_offset')}
    out['keypoint_scores'] = t['keypoint_visibility'][None]
    rng = np.random.default_rng(7)
    out['keypoint_offsets'] = out['keypoint_offsets'] + rng.uniform(
        -noise, noise, out['keypoint_offsets'].shape).astype(np.float32)
    return out


def _cells_apart(kpts, vis, stride=4):
    """``vis`` without the labelled points that share their cell, in the
    image or in its mirror, with another one (they share one offset)."""
    vis = vis.copy()
    for points in (kpts, flip_keypoints(kpts, vis, SIZE[0], FLIP7)[0][:, FLIP7]):
        cells = np.floor(points / stride).astype(int).reshape(-1, 2)
        keys = cells[:, 0] * 1000 + cells[:, 1]
        labelled = vis.reshape(-1) > 0.5
        counts = np.bincount(keys[labelled], minlength=keys.max() + 1)
        vis.reshape(-1)[labelled & (counts[keys] > 1)] = 0
    return vis


def test_flip_back_brings_the_mirrored_peaks_back_exactly():
    codec = CentreLabel(SIZE, stride=4, num_classes=2, num_keypoints=7, nms='none',
                        keypoint_heatmaps=True, snap_distance=None)
    boxes, labels, kpts, vis = _objects(seed=3)
    vis = _cells_apart(kpts, vis)
    assert vis.sum() > 15
    mirrored_kpts, mirrored_vis = flip_keypoints(kpts, vis, SIZE[0], FLIP7)
    mirrored = _as_outputs(codec.encode(flip_boxes(boxes, SIZE[0]), labels, mirrored_kpts,
                                        mirrored_vis), noise=0.1)
    back = codec.flip_back(mirrored, FLIP7)
    seen = vis > 0.5
    decoded = codec.batch_decode(**back)[0]
    idx = _match(decoded, boxes)
    err = np.linalg.norm(decoded['keypoints'][idx] - kpts, axis=-1)[seen]
    assert err.max() < 1e-3
    np.testing.assert_allclose(decoded['keypoint_scores'][idx][seen], 1.0)
    regressed = build_codec(dict(codec.to_dict(), keypoint_heatmaps=False)).batch_decode(**back)[0]
    assert np.linalg.norm(regressed['keypoints'][idx] - kpts, axis=-1)[seen].max() > 0.1
    twice = codec.flip_back(back, FLIP7)
    for name, value in mirrored.items():
        np.testing.assert_allclose(twice[name], value, atol=1e-5)
    # the heatmap channels are swapped by the table: point 1's map is mirrored point 4's
    np.testing.assert_array_equal(back['keypoint_heatmap'][0, 1],
                                  mirrored['keypoint_heatmap'][0, 4][:, ::-1])
