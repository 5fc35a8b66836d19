"""``customkpt train --data``: recognise a dataset (COCO-keypoint, DeepLabCut,
Labelme), convert and split it when needed, derive the keypoint definition,
size the schedule to it and write the run's full config.

:mod:`.sources` tells the formats apart, :mod:`.prepare` converts and splits,
:mod:`.facts` reads the definition and the numbers, :mod:`.schedule` sizes
the run, :mod:`.recipes` holds the models and writes the config,
:mod:`.run` ties them together.
"""
from .facts import TrainFacts, derive_definition, read_train_facts
from .prepare import CocoSplit, PreparedData, find_image_root, prepare_data, split_coco_file
from .recipes import RECIPES, Recipe, build_run_config, recipe_values, render_child
from .run import (RunPlan, best_checkpoint, default_model, default_work_dir, prepare_run,
                  training_logs, write_metrics)
from .schedule import Schedule, available_memory, host_memory, size_schedule
from .sources import LOOKED_FOR, DataSource, recognise

__all__ = [
    'DataSource', 'recognise', 'LOOKED_FOR', 'PreparedData', 'CocoSplit', 'prepare_data',
    'find_image_root', 'split_coco_file', 'TrainFacts', 'read_train_facts', 'derive_definition',
    'Schedule', 'size_schedule', 'available_memory', 'host_memory', 'Recipe', 'RECIPES',
    'recipe_values', 'render_child', 'build_run_config', 'RunPlan', 'prepare_run',
    'default_model', 'default_work_dir', 'best_checkpoint', 'training_logs', 'write_metrics',
]
