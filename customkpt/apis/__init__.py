"""User-facing inference: load a model from config + checkpoint, run it on
images and boxes; box providers and the video pipeline.

Importing this package registers the box providers in
``customkpt.registry.BOX_PROVIDERS``."""
from .boxes import BoxFileBoxes, FullFrameBoxes, KeypointTrackingBoxes, build_box_provider
from .detector import OnnxDetectorBoxes
from .inference import (TopdownPredictor, inference_topdown, init_model, stack_predictions,
                        test_pipeline_of)
from .onestage import OneStageDetectorBoxes, OneStagePredictor
from .pipeline import VideoOutputs, VideoRunSummary, run_video
from .sources import FrameSource, open_source
from .video import VideoPoseEstimator
from .writers import DlcCsvWriter, PoseJsonWriter, PoseVideoWriter, read_pose_jsonl

__all__ = ['init_model', 'inference_topdown', 'stack_predictions', 'test_pipeline_of',
           'TopdownPredictor', 'FullFrameBoxes', 'BoxFileBoxes', 'KeypointTrackingBoxes',
           'OnnxDetectorBoxes', 'OneStageDetectorBoxes', 'OneStagePredictor',
           'build_box_provider', 'VideoPoseEstimator', 'VideoOutputs',
           'VideoRunSummary', 'run_video', 'FrameSource',
           'open_source', 'PoseVideoWriter', 'PoseJsonWriter', 'DlcCsvWriter', 'read_pose_jsonl']
