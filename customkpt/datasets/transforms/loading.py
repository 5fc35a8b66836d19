"""Image loading, with an optional cache of decoded images.

On small keypoint datasets the image decode is most of the cost of a training
sample (a 640x480 PNG takes several milliseconds, the crop a fraction of
one), and the same images are decoded again every epoch. ``LoadImage`` can
keep decoded images so that each one is decoded once:

``cache=None``
    Decode on every read.
``cache='memory'``
    A per-process dict ``path -> decoded image``, least recently used
    entries dropped beyond ``cache_max_mb``. With a ``DataLoader`` every
    worker process holds its own copy of the transform and so its own cache:
    memory use is up to ``num_workers x cache_max_mb``, and each worker
    decodes an image the first time *it* sees it. The cache only survives
    across epochs when the workers do, i.e. with ``persistent_workers=True``
    (or ``num_workers=0``); otherwise fresh workers start empty every epoch
    and the cache buys nothing.
``cache='disk'``
    Decoded images are written once as raw ``.npy`` arrays under
    ``cache_dir`` and memory-mapped on later reads. Files are keyed by the
    image's resolved path, size, modification time and colour type, so they
    are shared safely by all workers, runs and experiments, and stale entries
    are never used after an image changes. The OS page cache keeps hot files
    in RAM once for all workers, so this is the better choice for many
    workers, non-persistent workers or datasets larger than RAM. Disk use is
    ``h x w x 3`` bytes per image (0.9 MB for 640x480).

Either way the transform hands out a private copy, so later transforms may
modify ``results['img']`` in place without touching the cache.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.core.image import read_image
from customkpt.registry import TRANSFORMS

__all__ = ['LoadImage']

_READ_FLAGS = {'color': cv2.IMREAD_COLOR, 'grayscale': cv2.IMREAD_GRAYSCALE}
_CACHE_MODES = (None, 'memory', 'disk')


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Read ``results['img_path']`` with OpenCV as a BGR uint8 image.

    See the module docstring for the cache modes and how they behave with
    several dataloader workers.

    Required keys:
        img_path (str).
    Added keys:
        img: uint8 (h, w, 3) BGR (``color``) or (h, w, 1) (``grayscale``);
            float32 when ``to_float32``.
        img_shape, ori_shape: (h, w).

    Args:
        to_float32: return a float32 image instead of uint8.
        color_type: ``'color'`` (3-channel BGR, grey files are expanded) or
            ``'grayscale'`` (one channel).
        cache: None, ``'memory'`` or ``'disk'``.
        cache_max_mb: memory-cache budget per process, in MiB.
        cache_dir: folder of the disk cache (created when needed).

    Attributes:
        num_decoded: images decoded by this instance (in this process).
        num_cache_hits: reads served from the cache.

    Raises:
        OSError: naming the path, when the image is missing or unreadable.
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 cache: str | None = None, cache_max_mb: float = 2048,
                 cache_dir: str = 'work_dirs/.image_cache') -> None:
        if cache not in _CACHE_MODES:
            raise ValueError(f"cache must be None, 'memory' or 'disk', got {cache!r}")
        if color_type not in _READ_FLAGS:
            raise ValueError(f"color_type must be 'color' or 'grayscale', got {color_type!r}")
        if cache_max_mb < 0:
            raise ValueError(f'cache_max_mb must be >= 0, got {cache_max_mb}')
        self.to_float32 = bool(to_float32)
        self.color_type = color_type
        self.cache = cache
        self.cache_max_mb = cache_max_mb
        self.cache_dir = str(cache_dir)
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_bytes = 0
        self.num_decoded = 0
        self.num_cache_hits = 0

    # ------------------------------------------------------------- reading
    def _decode(self, path: str) -> np.ndarray:
        img = read_image(path, 'LoadImage', _READ_FLAGS[self.color_type])
        self.num_decoded += 1
        if img.ndim == 2:
            img = img[..., None]
        return img

    def _from_memory(self, path: str) -> np.ndarray:
        img = self._memory.get(path)
        if img is not None:
            self._memory.move_to_end(path)
            self.num_cache_hits += 1
            return img
        img = self._decode(path)
        budget = self.cache_max_mb * 2**20
        if img.nbytes <= budget:
            self._memory[path] = img
            self._memory_bytes += img.nbytes
            while self._memory_bytes > budget:
                _, old = self._memory.popitem(last=False)
                self._memory_bytes -= old.nbytes
        return img

    def _disk_file(self, path: str) -> Path:
        try:
            stat = os.stat(path)
        except OSError as err:
            raise OSError(f'LoadImage: cannot read image {path!r} ({err.strerror})') from err
        key = f'{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.color_type}'
        digest = hashlib.sha1(key.encode()).hexdigest()
        return Path(self.cache_dir) / digest[:2] / f'{digest}.npy'

    def _from_disk(self, path: str) -> np.ndarray:
        file = self._disk_file(path)
        if file.is_file():
            try:
                img = np.load(file, mmap_mode='r')
                self.num_cache_hits += 1
                return img
            except (OSError, ValueError):
                pass  # damaged entry: decode again and overwrite it
        img = self._decode(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        # Write under a unique name, then rename: the rename is atomic, so a
        # concurrent worker never reads half a file. (No numpy RNG here, so
        # cold and warm caches leave the augmentation random stream alike.)
        tmp = file.with_name(f'{file.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp.npy')
        try:
            np.save(tmp, img)
            os.replace(tmp, file)
        except OSError:
            tmp.unlink(missing_ok=True)  # read-only or full disk: still return the image
        return img

    # ----------------------------------------------------------- transform
    def transform(self, results: dict) -> dict:
        """Load the image; see the class docstring for the keys."""
        path = str(results['img_path'])
        if self.cache == 'memory':
            img = np.array(self._from_memory(path))  # private copy
        elif self.cache == 'disk':
            img = np.array(self._from_disk(path))  # reads the mapped file into RAM
        else:
            img = self._decode(path)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __getstate__(self) -> dict:
        # A pickled copy (e.g. sent to a 'spawn' dataloader worker) starts
        # with an empty memory cache instead of carrying gigabytes along.
        state = self.__dict__.copy()
        state['_memory'] = OrderedDict()
        state['_memory_bytes'] = 0
        return state

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, cache={self.cache!r}, '
                f'cache_max_mb={self.cache_max_mb}, cache_dir={self.cache_dir!r})')
