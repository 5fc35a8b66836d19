"""mmengine's remote checkpoint schemes, read without executing anything.

mmengine reads ``http(s)://`` addresses (and the model-zoo names that resolve
to them) through ``torch.hub``, which unpickles with ``weights_only=False``:
a downloaded file could run any code. :func:`install_remote_loaders`
replaces the loader of every scheme mmengine registers:

* ``http://``, ``https://``: downloaded once into ``<torch hub dir>/checkpoints``
  (file name from the URL; an existing file is reused), then read by
  :func:`customkpt.checkpoint.safe_load` (or ``read_safetensors``);
* ``torchvision://`` / ``modelzoo://``, ``open-mmlab://`` / ``openmmlab://``,
  ``mmcls://``: resolved to their URL (or cached file) with mmengine's own
  model lists, then read the same way;
* ``pavi://``, ``s3://`` / ``petrel://``: fetched with their client into a
  temporary file, then read the same way;
* any other scheme found registered: refused with
  :class:`UnsupportedCheckpointScheme`, since nothing here can vouch for it.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import torch

from customkpt.checkpoint import load_local, read_safetensors, safe_load

_CHUNK = 1 << 20
_TIMEOUT_S = 60.0


class CheckpointDownloadError(OSError):
    """A checkpoint could not be downloaded."""


class UnsupportedCheckpointScheme(ValueError):
    """A checkpoint address uses a scheme that cannot be read safely."""


def cache_dir(model_dir: str | Path | None = None) -> Path:
    """Where downloaded checkpoints are kept: ``model_dir``, else
    ``<torch.hub.get_dir()>/checkpoints`` (mmengine's and torch's choice)."""
    if model_dir is not None:
        return Path(model_dir)
    return Path(torch.hub.get_dir()) / 'checkpoints'


def _file_name(url: str) -> str:
    """The cache file name of ``url``: its last path part, else a hash."""
    name = os.path.basename(urlparse(url).path)
    if not name or name in ('.', '..'):
        name = 'checkpoint-' + hashlib.sha256(url.encode()).hexdigest()[:16] + '.pth'
    return name


def _fetch(url: str, target: Path) -> None:
    """Download ``url`` into a temporary file beside ``target``, then rename."""
    # A fresh name beside the target, created with the usual (umask) permissions.
    tmp = f'{target}.{uuid.uuid4().hex}.part'
    try:
        request = urllib.request.Request(url, headers={'User-Agent': 'customkpt'})
        with open(tmp, 'xb') as out, \
                urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            declared = response.headers.get('Content-Length')
            received = 0
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
        if declared is not None and int(declared) != received:
            raise CheckpointDownloadError(
                f'could not download checkpoint {url}: got {received} of {declared} bytes')
        os.replace(tmp, target)
    except CheckpointDownloadError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise CheckpointDownloadError(
            f'could not download checkpoint {url}: {exc}') from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def cached_download(url: str, model_dir: str | Path | None = None) -> Path:
    """The local copy of ``url`` in :func:`cache_dir`, downloaded if missing.

    Raises:
        CheckpointDownloadError: the server could not be reached or answered
            with an error; nothing is left in the cache.
    """
    from mmengine.logging import print_log
    folder = cache_dir(model_dir)
    target = folder / _file_name(url)
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    print_log(f'Downloading checkpoint {url} to {target}', logger='current')
    _fetch(url, target)
    return target


def _read(path: Path, map_location: Any, source: str) -> Any:
    """Read a local copy with the weights-only rules; errors name ``source``."""
    if path.suffix == '.safetensors':
        return read_safetensors(path, source=source)
    return safe_load(path, map_location=map_location, source=source)


def load_from_http(filename: str, map_location: Any = None,
                   model_dir: str | Path | None = None) -> Any:
    """mmengine scheme ``http://`` / ``https://``: download once, read safely.

    In a distributed run rank 0 downloads while the others wait, then every
    rank reads the cached file.
    """
    from mmengine.dist import get_dist_info
    rank, world_size = get_dist_info()
    if rank == 0:
        path = cached_download(filename, model_dir)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            path = cached_download(filename, model_dir)
    source = f'{filename} (cached as {path}; delete that file to download it again)'
    return _read(path, map_location, source)


def _zoo_url(urls: dict, name: str, filename: str) -> str:
    if name not in urls:
        raise KeyError(f'checkpoint {filename}: {name!r} is not in mmengine\'s model list')
    return urls[name]


def load_from_torchvision(filename: str, map_location: Any = None) -> Any:
    """mmengine scheme ``torchvision://NAME`` (``modelzoo://NAME``, deprecated)."""
    from mmengine.runner import checkpoint as mm
    name = filename.split('://', 1)[1]
    url = _zoo_url(mm.get_torchvision_models(), name, filename)
    return load_from_http(url, map_location=map_location)


def load_from_openmmlab(filename: str, map_location: Any = None) -> Any:
    """mmengine scheme ``open-mmlab://NAME`` / ``openmmlab://NAME``: a URL, or
    a file below mmengine's home folder, as mmengine's lists say."""
    from mmengine.logging import print_log
    from mmengine.runner import checkpoint as mm
    prefix, name = filename.split('://', 1)
    deprecated = mm.get_deprecated_model_names()
    if name in deprecated:
        print_log(f'{prefix}://{name} is deprecated in favor of {prefix}://{deprecated[name]}',
                  logger='current', level=logging.WARNING)
        name = deprecated[name]
    url = _zoo_url(mm.get_external_models(), name, filename)
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location=map_location)
    path = Path(mm._get_mmengine_home()) / url
    if not path.is_file():
        raise FileNotFoundError(f'checkpoint {filename}: {path} not found')
    return _read(path, map_location, f'{filename} ({path})')


def load_from_mmcls(filename: str, map_location: Any = None) -> Any:
    """mmengine scheme ``mmcls://NAME``: the backbone weights of an mmcls
    model (``backbone.`` prefix removed, as mmengine does)."""
    from mmengine.runner import checkpoint as mm
    url = _zoo_url(mm.get_mmcls_models(), filename.split('://', 1)[1], filename)
    return mm._process_mmcls_checkpoint(load_from_http(url, map_location=map_location))


def load_from_pavi(filename: str, map_location: Any = None) -> Any:
    """mmengine scheme ``pavi://PATH``: fetched with the pavi client into a
    temporary folder, then read safely."""
    try:
        from pavi import modelcloud
    except ImportError as exc:
        raise ImportError(f'loading {filename} needs the pavi package') from exc
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / os.path.basename(str(model.name))
        model.download(str(path))
        return _read(path, map_location, filename)


def load_from_ceph(filename: str, map_location: Any = None, backend: str = 'petrel') -> Any:
    """mmengine schemes ``s3://`` / ``petrel://`` (optionally ``NAME:s3://``):
    the bytes from mmengine's file backend, written to a temporary file and
    read safely."""
    from mmengine.fileio import get_file_backend
    data = get_file_backend(filename, backend_args={'backend': backend}).get(filename)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (os.path.basename(urlparse(filename).path) or 'checkpoint.pth')
        path.write_bytes(data)
        return _read(path, map_location, filename)


def _refuse(prefix: str) -> Callable[..., Any]:
    """A loader for ``prefix`` that refuses to load anything."""
    def load_from_unsupported(filename: str, map_location: Any = None) -> Any:
        raise UnsupportedCheckpointScheme(
            f'refusing to load checkpoint {filename}: the scheme {prefix!r} has no loader '
            'that reads without executing code; download the file and give its local path')
    return load_from_unsupported


# Every scheme mmengine registers, with the loader that replaces its own.
REMOTE_LOADERS: dict[str, Callable[..., Any]] = {
    'http://': load_from_http,
    'https://': load_from_http,
    'torchvision://': load_from_torchvision,
    'modelzoo://': load_from_torchvision,
    'open-mmlab://': load_from_openmmlab,
    'openmmlab://': load_from_openmmlab,
    'mmcls://': load_from_mmcls,
    'pavi://': load_from_pavi,
    r'(\S+\:)?s3://': load_from_ceph,
    r'(\S+\:)?petrel://': load_from_ceph,
}


def install_remote_loaders() -> None:
    """Register :data:`REMOTE_LOADERS` with mmengine's ``CheckpointLoader``
    and a refusing loader for any other non-local scheme registered so far."""
    from mmengine.runner.checkpoint import CheckpointLoader
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        foreign = loader is not load_local and getattr(loader, '__module__', '') != __name__
        if prefix and prefix not in REMOTE_LOADERS and foreign:
            CheckpointLoader.register_scheme(prefixes=prefix, loader=_refuse(prefix), force=True)
    for prefix, loader in REMOTE_LOADERS.items():
        CheckpointLoader.register_scheme(prefixes=prefix, loader=loader, force=True)
