"""Glue between configs and mmengine's Runner: hooks and config helpers."""
from .hooks import PredictionDrawingHook
from .optim_wrapper import BF16OptimWrapper

__all__ = ['PredictionDrawingHook', 'BF16OptimWrapper']
