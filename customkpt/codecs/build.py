"""Building a codec from a plain config dict, without any registry."""
from __future__ import annotations

from typing import Any, Mapping

from .centre import CentreLabel
from .msra import MSRAHeatmap
from .simcc import SimCCLabel
from .udp import UDPHeatmap

__all__ = ['CODECS', 'build_codec']

#: Codec ``type`` name -> class.
CODECS: dict[str, type] = {
    'MSRAHeatmap': MSRAHeatmap,
    'UDPHeatmap': UDPHeatmap,
    'SimCCLabel': SimCCLabel,
    'CentreLabel': CentreLabel,
}


def build_codec(cfg: Mapping[str, Any]) -> Any:
    """A codec from a config dict such as ``dict(type='UDPHeatmap', sigma=2.0)``
    or a codec's ``to_dict()`` (an export sidecar's ``codec``).

    A ``type`` with a scope prefix (``'customkpt.MSRAHeatmap'``) is accepted.

    Raises:
        ValueError: ``cfg`` has no ``type``, an unknown ``type`` (the message
            lists the known ones) or arguments the codec does not take.
    """
    if not isinstance(cfg, Mapping) or 'type' not in cfg:
        raise ValueError(f"a codec config must be a dict with 'type', got {cfg!r}")
    kwargs = dict(cfg)
    name = str(kwargs.pop('type'))
    cls = CODECS.get(name.split('.')[-1])
    if cls is None:
        raise ValueError(f'unknown codec type {name!r}; known: {sorted(CODECS)}')
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f'codec {name}: {err}') from err
