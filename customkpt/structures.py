"""The per-sample container that travels from packing to model to metric."""
from mmengine.structures import BaseDataElement, InstanceData, PixelData


class PoseDataSample(BaseDataElement):
    """Ground truth and predictions of one top-down sample.

    Fields (see docs/architecture.md for shapes):
        gt_instances: boxes and keypoints in image pixels.
        gt_instance_labels: per-keypoint training weights (and SimCC labels).
        gt_fields: target heatmaps.
        pred_instances: predicted keypoints and scores in image pixels.
        pred_fields: predicted heatmaps (optional).
        pred_instance_labels: predicted SimCC vectors (optional).
    """

    def _field(name: str, kind: type):  # noqa: N805 - helper used at class creation

        def getter(self):
            return getattr(self, f'_{name}')

        def setter(self, value):
            self.set_field(value, f'_{name}', dtype=kind)

        def deleter(self):
            del self[f'_{name}']

        return property(getter, setter, deleter)

    gt_instances = _field('gt_instances', InstanceData)
    gt_instance_labels = _field('gt_instance_labels', InstanceData)
    gt_fields = _field('gt_fields', PixelData)
    pred_instances = _field('pred_instances', InstanceData)
    pred_fields = _field('pred_fields', PixelData)
    pred_instance_labels = _field('pred_instance_labels', InstanceData)
    del _field
