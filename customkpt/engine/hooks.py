"""Hooks registered in customkpt's HOOKS registry."""
from __future__ import annotations

import copy
from pathlib import Path

import cv2
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from customkpt.registry import HOOKS
from customkpt.visualization.draw import draw_instances

from .model_fit import check_dataset_fits


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


@HOOKS.register_module()
class ModelMetaHook(Hook):
    """Fix the model's keypoint definition before it trains or predicts.

    A model built without ``metainfo`` (the dataset reads the definition
    from its annotation file) gets the dataset's ``metainfo`` as
    ``model.dataset_meta``, so that its flip test has a table. A model that
    has one keeps it; the dataset's ``flip_indices`` must then agree. The
    model's head must predict as many keypoints as the dataset defines
    (checked before the first step, not found out by a failing reshape).

    Raises:
        ValueError: the model's and the dataset's ``flip_indices`` differ.
        customkpt.engine.model_fit.KeypointCountError: the head's and the
            dataset's keypoint counts differ.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        self._sync(runner, runner.train_dataloader, 'train')

    def before_val(self, runner) -> None:
        self._sync(runner, runner.val_dataloader, 'val')

    def before_test(self, runner) -> None:
        self._sync(runner, runner.test_dataloader, 'test')

    @staticmethod
    def _sync(runner, dataloader, stage: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        data_meta = getattr(getattr(dataloader, 'dataset', None), 'metainfo', None) or {}
        check_dataset_fits(model, data_meta, stage)
        data_table = data_meta.get('flip_indices')
        if not hasattr(model, 'dataset_meta') or data_table is None:
            return
        model_table = (model.dataset_meta or {}).get('flip_indices')
        if model_table is None:
            model.dataset_meta = copy.deepcopy(dict(data_meta))
        elif list(model_table) != list(data_table):
            raise ValueError(f"model.dataset_meta flip_indices {list(model_table)} differ from "
                             f"the {stage} dataset's metainfo flip_indices {list(data_table)}: "
                             'the model and the data use different keypoint definitions')
