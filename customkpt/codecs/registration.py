"""Registers the codecs of :data:`customkpt.codecs.CODECS` in
:data:`customkpt.registry.KEYPOINT_CODECS`, so that configs build them with
``KEYPOINT_CODECS.build(dict(type='MSRAHeatmap', ...))``.

The registry imports this module by itself the first time it builds a codec;
the codec classes stay free of mmengine.
"""
from ..registry import KEYPOINT_CODECS
from .build import CODECS

for _codec in CODECS.values():
    KEYPOINT_CODECS.register_module(module=_codec)
