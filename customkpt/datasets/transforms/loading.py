"""Image loading, with an optional cache of decoded images."""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from customkpt.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadImage(BaseTransform):
    """Read ``img_path`` as a BGR uint8 image.

    Decoding dominates the cost of a training sample on small datasets
    (PNG especially), so decoded images can be cached:

    - ``cache='memory'``: each dataloader worker keeps decoded images in RAM,
      least recently used dropped beyond ``cache_max_mb``;
    - ``cache='disk'``: decoded images are stored once as ``.npy`` under
      ``cache_dir`` and memory-mapped afterwards, shared by all workers and
      runs (keyed by path, size and modification time).

    Required keys: img_path. Added keys: img, img_shape, ori_shape.
    """

    def __init__(self, to_float32: bool = False, color_type: str = 'color',
                 cache: str | None = None, cache_max_mb: int = 2048,
                 cache_dir: str = 'work_dirs/.image_cache') -> None:
        if cache not in (None, 'memory', 'disk'):
            raise ValueError(f"cache must be None, 'memory' or 'disk', got {cache!r}")
        if color_type not in ('color', 'grayscale'):
            raise ValueError(f"color_type must be 'color' or 'grayscale', got {color_type!r}")
        self.to_float32 = to_float32
        self.color_type = color_type
        self.cache = cache
        self.cache_max_mb = cache_max_mb
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_bytes = 0

    def _decode(self, path: str) -> np.ndarray:
        flag = cv2.IMREAD_COLOR if self.color_type == 'color' else cv2.IMREAD_GRAYSCALE
        img = cv2.imread(path, flag)
        if img is None:
            raise OSError(f'cannot read image {path!r} (missing, unreadable or not an image)')
        if img.ndim == 2:
            img = img[..., None]
        return img

    def _from_memory(self, path: str) -> np.ndarray:
        img = self._memory.get(path)
        if img is not None:
            self._memory.move_to_end(path)
            return img
        img = self._decode(path)
        self._memory[path] = img
        self._memory_bytes += img.nbytes
        while self._memory_bytes > self.cache_max_mb * 2**20 and len(self._memory) > 1:
            _, old = self._memory.popitem(last=False)
            self._memory_bytes -= old.nbytes
        return img

    def _from_disk(self, path: str) -> np.ndarray:
        stat = Path(path).stat()
        key = hashlib.sha1(f'{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}|'
                           f'{self.color_type}'.encode()).hexdigest()
        file = Path(self.cache_dir) / key[:2] / f'{key}.npy'
        if file.is_file():
            return np.load(file, mmap_mode='r')
        img = self._decode(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f'.{np.random.randint(1 << 30)}.tmp.npy')
        np.save(tmp, img)
        tmp.replace(file)  # atomic: a concurrent worker never sees half a file
        return img

    def transform(self, results: dict) -> dict:
        path = str(results['img_path'])
        if self.cache == 'memory':
            img = self._from_memory(path)
        elif self.cache == 'disk':
            img = self._from_disk(path)
        else:
            img = self._decode(path)
        img = np.array(img, dtype=np.float32 if self.to_float32 else np.uint8)  # own copy
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(to_float32={self.to_float32}, '
                f'color_type={self.color_type!r}, cache={self.cache!r}, '
                f'cache_max_mb={self.cache_max_mb}, cache_dir={self.cache_dir!r})')
