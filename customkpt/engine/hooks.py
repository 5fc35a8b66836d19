"""Hooks registered in customkpt's HOOKS registry."""
from __future__ import annotations

from pathlib import Path

import cv2
from mmengine.hooks import Hook

from customkpt.registry import HOOKS
from customkpt.visualization.draw import draw_instances


@HOOKS.register_module()
class PredictionDrawingHook(Hook):
    """Write each test image with its predicted keypoints drawn, next to the
    ground truth, as PNG files (``tools/test.py --show-dir``).

    Args:
        out_dir: the folder for the images (created).
        max_images: stop drawing after this many samples.
        kpt_thr: points scored below this are not drawn.
    """

    def __init__(self, out_dir: str, max_images: int = 50, kpt_thr: float = 0.3) -> None:
        self.out_dir = Path(out_dir)
        self.max_images = max_images
        self.kpt_thr = kpt_thr
        self._written = 0

    def before_test(self, runner) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._written = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        meta = runner.test_dataloader.dataset.metainfo
        for sample in outputs or []:
            if self._written >= self.max_images:
                return
            img = cv2.imread(sample.metainfo['img_path'])
            if img is None:
                continue
            gt, pred = sample.gt_instances, sample.pred_instances
            left = draw_instances(img, gt.keypoints, gt.keypoints_visible, meta,
                                  score_thr=0.5, bboxes=gt.bboxes)
            right = draw_instances(img, pred.keypoints, pred.keypoint_scores, meta,
                                   score_thr=self.kpt_thr, bboxes=pred.bboxes)
            cv2.putText(left, 'ground truth', (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (255, 255, 255), 1, cv2.LINE_AA)
            cv2.putText(right, 'prediction', (5, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                        (255, 255, 255), 1, cv2.LINE_AA)
            name = f'{sample.metainfo["img_id"]}_{sample.metainfo.get("id", 0)}.png'
            cv2.imwrite(str(self.out_dir / name), cv2.hconcat([left, right]))
            self._written += 1
