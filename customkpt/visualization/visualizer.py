"""An mmengine visualizer that draws keypoint samples."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import cv2
import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from ..core.arrays import to_numpy_or_none
from ..meta import KeypointMeta
from ..registry import VISUALIZERS
from .draw import as_meta_dict, draw_instances, hstack_images, put_title


def _get(obj: Any, key: str) -> Any:
    """``obj.key`` or ``obj[key]``, None when absent."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


@VISUALIZERS.register_module()
class PoseVisualizer(Visualizer):
    """Draws ground truth and predictions of a :class:`PoseDataSample` side by
    side and hands the result to the vis backends (or a file).

    Images: :meth:`add_datasample` takes a **BGR** image, like ``cv2.imread``
    and customkpt's ``LoadImage`` produce (pass ``channel_order='rgb'`` for
    RGB). It returns the drawn image in BGR; the vis backends and
    :meth:`show` receive it converted to RGB, as mmengine expects, and
    ``out_file`` is written with ``cv2.imwrite`` (BGR).

    Args:
        name: instance name (mmengine's ``ManagerMixin``).
        vis_backends: vis backend configs, e.g. ``[dict(type='LocalVisBackend')]``.
        save_dir: where the backends write (``<save_dir>/vis_data``).
        kpt_thr: default score/visibility threshold of drawn points.
        radius: point radius; scaled with the image when None.
        thickness: link thickness; scaled with the image when None.
        show_names: write point names.
        draw_bbox: draw the instance boxes.
        **kwargs: passed to :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: np.ndarray | None = None,
                 vis_backends: list[dict] | None = None,
                 save_dir: str | None = None,
                 kpt_thr: float = 0.3,
                 radius: int | None = None,
                 thickness: int | None = None,
                 show_names: bool = False,
                 draw_bbox: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(name=name, image=image, vis_backends=vis_backends,
                         save_dir=save_dir, **kwargs)
        self.kpt_thr = kpt_thr
        self.radius = radius
        self.thickness = thickness
        self.show_names = show_names
        self.draw_bbox = draw_bbox

    def set_dataset_meta(self, meta: Mapping[str, Any] | KeypointMeta) -> None:
        """Set the keypoint definition used for drawing (a metainfo dict as
        datasets expose it, or a :class:`KeypointMeta`)."""
        self.dataset_meta = as_meta_dict(meta)

    def _panel(self, image: np.ndarray, instances: Any, kpt_key: str, vis_key: str,
               kpt_thr: float, title: str) -> np.ndarray:
        meta = self.dataset_meta
        kpts = to_numpy_or_none(_get(instances, 'keypoints'))
        if kpts is not None and kpts.size:
            image = draw_instances(
                image, kpts, to_numpy_or_none(_get(instances, vis_key)), meta, score_thr=kpt_thr,
                radius=self.radius, thickness=self.thickness, show_names=self.show_names,
                bboxes=to_numpy_or_none(_get(instances, 'bboxes')) if self.draw_bbox else None)
        return put_title(image, title)

    def draw_datasample(self, image: np.ndarray, data_sample: Any, draw_gt: bool = True,
                        draw_pred: bool = True, kpt_thr: float | None = None) -> np.ndarray:
        """Draw one sample; returns the BGR panels (ground truth | prediction)
        side by side.

        Args:
            image: (h, w, 3) BGR uint8 image in the coordinates of the sample's
                keypoints (the original image for image-pixel keypoints).
            data_sample: a ``PoseDataSample`` (or dict) with ``gt_instances``
                (``keypoints``, ``keypoints_visible``) and/or ``pred_instances``
                (``keypoints``, ``keypoint_scores``).
            draw_gt: draw the ground-truth panel (when present).
            draw_pred: draw the prediction panel (when present).
            kpt_thr: visibility/score threshold; ``self.kpt_thr`` when None.

        Returns:
            The drawn BGR image.

        Raises:
            RuntimeError: if no dataset meta was set.
        """
        if not self.dataset_meta:
            raise RuntimeError('PoseVisualizer has no keypoint definition: call '
                               'set_dataset_meta(dataset.metainfo) first')
        thr = self.kpt_thr if kpt_thr is None else kpt_thr
        panels = []
        gt = _get(data_sample, 'gt_instances')
        pred = _get(data_sample, 'pred_instances')
        if draw_gt and gt is not None:
            panels.append(self._panel(image, gt, 'keypoints', 'keypoints_visible', thr,
                                      'ground truth'))
        if draw_pred and pred is not None:
            panels.append(self._panel(image, pred, 'keypoints', 'keypoint_scores', thr,
                                      'prediction'))
        if not panels:
            panels.append(np.ascontiguousarray(image, dtype=np.uint8).copy())
        return hstack_images(panels)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Any = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: str | None = None,
                       step: int = 0,
                       kpt_thr: float | None = None,
                       channel_order: str = 'bgr') -> np.ndarray:
        """Draw a sample and record it.

        Args:
            name: image name for the backends.
            image: (h, w, 3) uint8 image, BGR unless ``channel_order='rgb'``.
            data_sample: see :meth:`draw_datasample`.
            draw_gt: draw ground truth.
            draw_pred: draw predictions.
            show: show in a window (mmengine's ``show``).
            wait_time: seconds the window waits.
            out_file: write the drawing to this file instead of the backends.
            step: global step for the backends.
            kpt_thr: visibility/score threshold; ``self.kpt_thr`` when None.
            channel_order: 'bgr' or 'rgb', the order of ``image``.

        Returns:
            The drawn BGR image.
        """
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
        image = np.asarray(image)
        if channel_order == 'rgb':
            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR)
        drawn = self.draw_datasample(image, data_sample, draw_gt, draw_pred, kpt_thr)
        rgb = cv2.cvtColor(drawn, cv2.COLOR_BGR2RGB)
        self.set_image(rgb)
        if show:
            self.show(rgb, win_name=name, wait_time=wait_time)
        if out_file is not None:
            Path(out_file).parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(out_file), drawn):
                raise OSError(f'could not write {out_file}')
        else:
            self.add_image(name, rgb, step)
        return drawn
