"""Glue between configs and mmengine's Runner: hooks and config helpers."""
from .hooks import ModelMetaHook, PredictionDrawingHook
from .optim_wrapper import BF16OptimWrapper

__all__ = ['ModelMetaHook', 'PredictionDrawingHook', 'BF16OptimWrapper']
