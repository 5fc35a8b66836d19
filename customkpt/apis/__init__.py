"""User-facing inference: load a model from config + checkpoint, run it on
images and boxes."""
from .inference import (TopdownPredictor, inference_topdown, init_model, stack_predictions,
                        test_pipeline_of)

__all__ = ['init_model', 'inference_topdown', 'stack_predictions', 'test_pipeline_of',
           'TopdownPredictor']
