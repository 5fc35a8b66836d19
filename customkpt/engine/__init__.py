"""Glue between configs and mmengine's Runner: hooks and config helpers."""
from .hooks import PredictionDrawingHook

__all__ = ['PredictionDrawingHook']
