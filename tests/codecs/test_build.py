"""build_codec, to_dict and use_udp; the registry builds the same codecs."""
import numpy as np
import pytest

from customkpt.codecs import CODECS, MSRAHeatmap, UDPHeatmap, build_codec
from customkpt.registry import KEYPOINT_CODECS

CONFIGS = [
    dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0,
         unbiased=True, blur_kernel_size=7),
    dict(type='UDPHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0)]


def _heatmaps(seed=0, b=3, k=4, h=32, w=24):
    """Gaussian blobs at random sub-pixel spots (some at the border) plus noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]
    centres = rng.uniform([-1, -1], [w, h], (b, k, 2))
    centres[0, 0] = (0, 5)       # peak in the first column
    centres[1, 1] = (w - 1, h - 1)
    maps = np.exp(-((xs - centres[..., 0, None, None])**2 +
                    (ys - centres[..., 1, None, None])**2) / 8.0)
    maps += rng.normal(0, 0.01, maps.shape)
    maps[2, 3] = -np.abs(maps[2, 3])  # a map with no positive peak
    return maps.astype(np.float32)


@pytest.mark.parametrize('cfg', CONFIGS)
def test_to_dict_rebuilds_the_same_decoder(cfg):
    """A sidecar's codec entry (to_dict, through JSON-like lists) decodes as
    the codec the config builds, with or without the registry."""
    codec = KEYPOINT_CODECS.build(cfg)
    assert type(codec) is CODECS[cfg['type']]
    side = codec.to_dict()
    assert side['type'] == cfg['type'] and side['input_size'] == [96, 128]
    assert side['heatmap_size'] == [24, 32] and side['sigma'] == 2.0
    assert side['blur_kernel_size'] == cfg.get('blur_kernel_size', 11)
    rebuilt = build_codec(side)
    assert rebuilt.to_dict() == side and repr(rebuilt) == repr(codec)
    for seed in range(3):
        maps = _heatmaps(seed)
        want_kpts, want_scores = codec.batch_decode(maps)
        kpts, scores = rebuilt.batch_decode(maps)
        np.testing.assert_array_equal(kpts, want_kpts)
        np.testing.assert_array_equal(scores, want_scores)
    assert scores[2, 3] == 0


def test_to_dict_fields_and_use_udp():
    msra = MSRAHeatmap((48, 64), (12, 16), 3.0, unbiased=True, blur_kernel_size=17)
    assert msra.to_dict() == dict(type='MSRAHeatmap', input_size=[48, 64],
                                  heatmap_size=[12, 16], sigma=3.0, unbiased=True,
                                  blur_kernel_size=17)
    udp = UDPHeatmap((48, 64), (12, 16))
    assert udp.to_dict() == dict(type='UDPHeatmap', input_size=[48, 64], heatmap_size=[12, 16],
                                 sigma=2.0, blur_kernel_size=11)
    assert msra.use_udp is False and udp.use_udp is True
    assert build_codec(dict(type='customkpt.UDPHeatmap')).use_udp is True


def test_clear_errors():
    with pytest.raises(ValueError, match=r"unknown codec type 'Regression'; known: "
                                         r"\['CentreLabel', 'MSRAHeatmap', 'SimCCLabel', "
                                         r"'UDPHeatmap'\]"):
        build_codec(dict(type='Regression'))
    with pytest.raises(ValueError, match="'type'"):
        build_codec(dict(sigma=2.0))
    with pytest.raises(ValueError, match='codec MSRAHeatmap: .*simga'):
        build_codec(dict(type='MSRAHeatmap', simga=2.0))
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        build_codec(dict(type='MSRAHeatmap')).batch_decode(np.zeros((1, 4, 4), np.float32))
    peak = np.zeros((1, 1, 5, 5), np.float32)
    peak[..., 2, 2] = 1  # an interior peak, so DARK blurs
    with pytest.raises(ValueError, match='odd'):
        build_codec(dict(type='UDPHeatmap', input_size=[10, 10], heatmap_size=[5, 5],
                         blur_kernel_size=4)).batch_decode(peak)
