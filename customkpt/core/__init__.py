"""Array maths shared by training, evaluation and deployment.

Modules here import only numpy and OpenCV (no torch, no mmengine, no other
customkpt module), so the ONNX predictor and the converters can use them
without the training stack:

* :mod:`~customkpt.core.geometry`: boxes to crop regions, the crop warp and
  the mapping of crop pixels back to image pixels;
* :mod:`~customkpt.core.boxes`: box formats, clipping, boxes from points,
  IoU, NMS, OKS and OKS-NMS;
* :mod:`~customkpt.core.peaks`: heatmap and 1-D vector peaks, sub-pixel
  refinement;
* :mod:`~customkpt.core.flip`: horizontal flips of heatmaps, vectors and
  keypoints;
* :mod:`~customkpt.core.presets`: the built-in COCO, MPII and AI Challenger
  keypoint definitions;
* :mod:`~customkpt.core.arrays`: numpy arrays out of sample fields (tensors
  included, without importing torch).

Import the modules themselves (``from customkpt.core.boxes import nms``).
"""
