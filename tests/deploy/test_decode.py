"""The numpy decoders in customkpt.deploy.decode equal the codecs' batch_decode."""
import numpy as np
import pytest

from customkpt.deploy.decode import decode_heatmaps
from customkpt.registry import KEYPOINT_CODECS


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


@pytest.mark.parametrize('cfg', [
    dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0),
    dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0,
         unbiased=True, blur_kernel_size=7),
    dict(type='UDPHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0)])
def test_same_as_codec(cfg):
    codec = KEYPOINT_CODECS.build(cfg)
    side = dict(type=cfg['type'], input_size=list(cfg['input_size']),
                heatmap_size=list(cfg['heatmap_size']), sigma=cfg['sigma'],
                unbiased=cfg.get('unbiased', False),
                blur_kernel_size=cfg.get('blur_kernel_size', 11))
    for seed in range(3):
        maps = _heatmaps(seed)
        want_kpts, want_scores = codec.batch_decode(maps)
        kpts, scores = decode_heatmaps(maps, side)
        np.testing.assert_allclose(kpts, want_kpts, atol=1e-5)
        np.testing.assert_array_equal(scores, want_scores)
    assert scores[2, 3] == 0


def test_bad_input():
    with pytest.raises(ValueError, match="codec.type 'Regression'"):
        decode_heatmaps(np.zeros((1, 1, 4, 4), np.float32), dict(type='Regression'))
    with pytest.raises(ValueError, match=r'\(B, K, H, W\)'):
        decode_heatmaps(np.zeros((1, 4, 4), np.float32), dict(type='MSRAHeatmap'))
    with pytest.raises(ValueError, match='odd'):
        peak = np.zeros((1, 1, 5, 5), np.float32)
        peak[..., 2, 2] = 1  # an interior peak, so DARK blurs
        decode_heatmaps(peak, dict(type='UDPHeatmap', input_size=[10, 10], heatmap_size=[5, 5],
                                   blur_kernel_size=4))
