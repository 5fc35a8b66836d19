"""Glue between configs and mmengine's Runner: hooks and config helpers."""
from .checkpoint_hook import AtomicCheckpointHook
from .ema import ExpMomentumEMA
from .hooks import ModelMetaHook, PredictionDrawingHook
from .optim_wrapper import BF16OptimWrapper
from .pipeline_switch import PipelineSwitchHook
from .resume import EpochSeedHook
from .semi_supervised import SemiSupervisedHook

__all__ = ['ModelMetaHook', 'PredictionDrawingHook', 'BF16OptimWrapper', 'PipelineSwitchHook',
           'AtomicCheckpointHook', 'EpochSeedHook', 'SemiSupervisedHook']
