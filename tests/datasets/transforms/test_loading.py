"""LoadImage: decoding, errors and the decoded-image caches."""
import os
import pickle

import cv2
import numpy as np
import pytest

import customkpt.datasets.transforms.loading as loading

from .common import build


@pytest.fixture
def png(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    path = tmp_path / 'a.png'
    assert cv2.imwrite(str(path), img)
    return path, img


@pytest.fixture
def imread_calls(monkeypatch):
    """Count cv2.imread calls made by the loading module."""
    calls = []
    real = loading.cv2.imread

    def counting(*args):
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(loading.cv2, 'imread', counting)
    return calls


def test_reads_bgr_uint8_and_sets_shapes(png):
    path, img = png
    r = build(dict(type='LoadImage'))(dict(img_path=str(path)))
    assert r['img'].dtype == np.uint8 and r['img'].shape == (20, 30, 3)
    np.testing.assert_array_equal(r['img'], img)  # BGR as written by cv2
    assert r['img_shape'] == (20, 30) and r['ori_shape'] == (20, 30)
    r = build(dict(type='LoadImage', to_float32=True))(dict(img_path=str(path)))
    assert r['img'].dtype == np.float32
    np.testing.assert_array_equal(r['img'], img.astype(np.float32))
    r = build(dict(type='LoadImage', color_type='grayscale'))(dict(img_path=str(path)))
    assert r['img'].shape == (20, 30, 1)


@pytest.mark.parametrize('cache', [None, 'memory', 'disk'])
def test_unreadable_image_error_names_the_path(tmp_path, cache):
    t = build(dict(type='LoadImage', cache=cache, cache_dir=str(tmp_path / 'c')))
    with pytest.raises(OSError, match='nope.png'):
        t(dict(img_path=str(tmp_path / 'nope.png')))
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not an image')
    with pytest.raises(OSError, match='broken.png'):
        t(dict(img_path=str(bad)))


def test_bad_arguments():
    with pytest.raises(ValueError, match='cache'):
        build(dict(type='LoadImage', cache='ram'))
    with pytest.raises(ValueError, match='color_type'):
        build(dict(type='LoadImage', color_type='rgb'))


@pytest.mark.parametrize('cache', ['memory', 'disk'])
def test_cache_decodes_once_and_returns_identical_private_copies(tmp_path, png, imread_calls,
                                                                  cache):
    path, img = png
    t = build(dict(type='LoadImage', cache=cache, cache_dir=str(tmp_path / 'c')))
    first = t(dict(img_path=str(path)))['img']
    second = t(dict(img_path=str(path)))['img']
    assert len(imread_calls) == 1 and t.num_decoded == 1 and t.num_cache_hits == 1
    np.testing.assert_array_equal(first, img)
    np.testing.assert_array_equal(second, img)
    assert second.flags.writeable and not np.shares_memory(first, second)
    second[:] = 0  # a later in-place transform must not reach the cache
    np.testing.assert_array_equal(t(dict(img_path=str(path)))['img'], img)
    assert len(imread_calls) == 1


def test_no_cache_decodes_every_time(png, imread_calls):
    path, _ = png
    t = build(dict(type='LoadImage'))
    t(dict(img_path=str(path)))
    t(dict(img_path=str(path)))
    assert len(imread_calls) == 2


def test_memory_and_disk_caches_agree(tmp_path, png):
    path, _ = png
    mem = build(dict(type='LoadImage', cache='memory'))
    disk = build(dict(type='LoadImage', cache='disk', cache_dir=str(tmp_path / 'c')))
    for _ in range(2):  # cold, then warm
        a = mem(dict(img_path=str(path)))['img']
        b = disk(dict(img_path=str(path)))['img']
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_disk_cache_is_shared_between_instances_and_tracks_changes(tmp_path, png, imread_calls):
    path, img = png
    cfg = dict(type='LoadImage', cache='disk', cache_dir=str(tmp_path / 'c'))
    build(cfg)(dict(img_path=str(path)))
    assert len(list((tmp_path / 'c').rglob('*.npy'))) == 1
    # A new instance (another worker, another run) reads the stored array.
    other = build(cfg)
    np.testing.assert_array_equal(other(dict(img_path=str(path)))['img'], img)
    assert len(imread_calls) == 1 and other.num_decoded == 0
    # Rewriting the image invalidates its entry.
    new = img[::-1].copy()
    cv2.imwrite(str(path), new)
    os.utime(path, ns=(1, 1))
    np.testing.assert_array_equal(other(dict(img_path=str(path)))['img'], new)
    assert len(imread_calls) == 2


def test_disk_cache_leaves_the_numpy_random_stream_alone(tmp_path, png):
    path, _ = png
    t = build(dict(type='LoadImage', cache='disk', cache_dir=str(tmp_path / 'c')))
    np.random.seed(3)
    t(dict(img_path=str(path)))  # cold: writes the file
    cold = np.random.rand()
    np.random.seed(3)
    t(dict(img_path=str(path)))  # warm
    assert np.random.rand() == cold


def test_memory_cache_is_bounded(tmp_path, imread_calls):
    paths = []
    for i in range(3):
        p = tmp_path / f'{i}.png'
        cv2.imwrite(str(p), np.full((512, 512, 3), i, np.uint8))  # 0.75 MiB decoded
        paths.append(str(p))
    t = build(dict(type='LoadImage', cache='memory', cache_max_mb=1.6))  # room for two
    for p in paths + paths[-1:]:
        t(dict(img_path=p))
    assert len(imread_calls) == 3  # the last read was a hit
    assert t._memory_bytes <= 1.6 * 2**20 and len(t._memory) == 2
    t(dict(img_path=paths[0]))  # the oldest entry was dropped
    assert len(imread_calls) == 4


def test_pickled_copy_starts_with_an_empty_memory_cache(png):
    path, _ = png
    t = build(dict(type='LoadImage', cache='memory'))
    t(dict(img_path=str(path)))
    clone = pickle.loads(pickle.dumps(t))
    assert len(t._memory) == 1 and len(clone._memory) == 0 and clone._memory_bytes == 0
    assert clone.cache == 'memory'
