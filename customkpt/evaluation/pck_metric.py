"""PCK, PCKh, torso PCK, AUC and EPE for top-down predictions.

Definitions (errors are Euclidean distances in image pixels between each
predicted keypoint and its labelled ground truth; unlabelled points,
``keypoints_visible == 0``, never count):

* PCK@thr: the fraction of labelled points, pooled over all instances and
  keypoints, with ``error < thr * norm``. The per-instance ``norm`` is
  ``'bbox'``: ``max(w, h)`` of the ground-truth box; ``'head'``: the
  ground-truth ``head_size`` (MPII: 0.6 x head-box diagonal), reported as
  PCKh; ``'torso'``: the ground-truth distance between the two points of
  ``torso_pair``, reported as tPCK (instances with either torso point
  unlabelled are skipped). Instances whose norm is not positive are skipped.
  MMPose instead averages the per-keypoint PCKs; the pooled fraction weighs
  every labelled point equally.
* AUC: the area under the PCK curve over normalised thresholds
  ``[0, auc_max_thr]`` divided by ``auc_max_thr``, computed as the mean PCK
  at ``auc_max_thr * i / auc_num_thrs`` for ``i = 1 .. auc_num_thrs``
  (defaults 0.5 and 50: thresholds 0.01, 0.02, ..., 0.50, the range of
  MPII's PCKh curve). It uses the first entry of ``norm_item``. A perfect
  prediction scores 1.
* EPE: the mean pixel error over all labelled points.

Per-keypoint values come back as ``'<PCK name>/<keypoint name>'`` and
``'EPE/<keypoint name>'`` (keypoints never labelled in the split are left
out) and are logged as a table.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from ..core.arrays import to_numpy
from ..core.presets import MPII_NAMES
from ..registry import METRICS
from .functional import auc, epe, pck

NORM_ITEMS = ('bbox', 'head', 'torso')
#: The reported name of PCK under each normalisation.
PCK_NAMES = {'bbox': 'PCK', 'head': 'PCKh', 'torso': 'tPCK'}
#: Torso pairs tried, in order, when ``torso_pair`` is not given.
DEFAULT_TORSO_PAIRS = (('left_shoulder', 'right_hip'), ('l_shoulder', 'r_hip'),
                       ('right_shoulder', 'left_hip'), ('r_shoulder', 'l_hip'),
                       ('thorax', 'pelvis'), ('neck', 'pelvis'))

#: MPII's 16 joints (customkpt names, :data:`customkpt.core.presets.MPII_NAMES`) and the
#: groups of its result table.
MPII_JOINTS = tuple(MPII_NAMES)
MPII_GROUPS = {
    'Head': ('head_top',),
    'Shoulder': ('l_shoulder', 'r_shoulder'),
    'Elbow': ('l_elbow', 'r_elbow'),
    'Wrist': ('l_wrist', 'r_wrist'),
    'Hip': ('l_hip', 'r_hip'),
    'Knee': ('l_knee', 'r_knee'),
    'Ankle': ('l_ankle', 'r_ankle'),
}
#: Joints left out of MPII's mean.
MPII_EXCLUDED = ('pelvis', 'thorax')


def _canonical_mpii(name: str) -> str:
    """Map MMPose-style MPII names (``left_wrist``) onto ours (``l_wrist``)."""
    name = name.lower()
    for long, short in (('left_', 'l_'), ('right_', 'r_')):
        if name.startswith(long):
            return short + name[len(long):]
    return name


@METRICS.register_module()
class PCKAccuracy(BaseMetric):
    """PCK / PCKh / tPCK, AUC and EPE (see the module docs for definitions).

    Data samples (dicts) need ``pred_instances.keypoints`` (N, K, 2) and
    ``gt_instances`` with ``keypoints`` (N, K, 2), ``keypoints_visible``
    (N, K), plus ``bboxes`` (N, 4 xyxy) for ``'bbox'`` and ``head_size``
    (N,) for ``'head'``. Predictions pair one-to-one with ground truth
    (top-down evaluation on ground-truth boxes).

    Args:
        thr: PCK threshold as a fraction of the normaliser.
        norm_item: ``'bbox'``, ``'head'``, ``'torso'`` or a list of them;
            each reports its PCK (``'PCK'``, ``'PCKh'``, ``'tPCK'``).
        torso_pair: two keypoint names whose ground-truth distance is the
            torso normaliser; by default the first pair of
            :data:`DEFAULT_TORSO_PAIRS` present in the definition.
        auc_max_thr: the AUC's largest normalised threshold.
        auc_num_thrs: how many thresholds the AUC samples.
        per_keypoint: also return per-keypoint PCK and EPE.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: metric name prefix (none by default).
        collect_dir: shared folder for gathering on cpu (optional).
    """

    #: Empty: names stay bare ('PCK', 'AUC', 'EPE'); '' also keeps mmengine from
    #: warning that no prefix is set.
    default_prefix: Optional[str] = ''

    def __init__(self, thr: float = 0.05, norm_item: Union[str, Sequence[str]] = 'bbox',
                 torso_pair: Optional[Sequence[str]] = None, auc_max_thr: float = 0.5,
                 auc_num_thrs: int = 50, per_keypoint: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        items = [norm_item] if isinstance(norm_item, str) else list(norm_item)
        bad = [i for i in items if i not in NORM_ITEMS]
        if not items or bad or len(set(items)) != len(items):
            raise ValueError(f'norm_item must be one or several distinct of {NORM_ITEMS}, '
                             f'got {norm_item!r}')
        if torso_pair is not None and len(torso_pair) != 2:
            raise ValueError(f'torso_pair must name two keypoints, got {torso_pair!r}')
        if auc_max_thr <= 0 or auc_num_thrs < 1:
            raise ValueError('auc_max_thr must be > 0 and auc_num_thrs >= 1')
        self.thr = float(thr)
        self.norm_items = items
        self.torso_pair = None if torso_pair is None else [str(n) for n in torso_pair]
        self.auc_max_thr = float(auc_max_thr)
        self.auc_num_thrs = int(auc_num_thrs)
        self.per_keypoint = bool(per_keypoint)

    # ------------------------------------------------------------ helpers
    def keypoint_names(self, num_kpts: int) -> list[str]:
        """The definition's names, or ``kpt0 .. kpt{K-1}`` without a meta."""
        names = (self.dataset_meta or {}).get('keypoint_names')
        if names is not None and len(names) == num_kpts:
            return [str(n) for n in names]
        return [f'kpt{i}' for i in range(num_kpts)]

    def _torso_indices(self, num_kpts: int) -> tuple[int, int]:
        names = (self.dataset_meta or {}).get('keypoint_names')
        if not names or len(names) != num_kpts:
            raise ValueError("norm_item 'torso' needs dataset_meta['keypoint_names']")
        pairs = [self.torso_pair] if self.torso_pair else DEFAULT_TORSO_PAIRS
        for a, b in pairs:
            if a in names and b in names:
                return names.index(a), names.index(b)
        if self.torso_pair:
            raise ValueError(f'torso_pair {self.torso_pair} is not in the keypoint names '
                             f'{list(names)}')
        raise ValueError(f"norm_item 'torso': no default torso pair in {list(names)}; "
                         "set torso_pair=['<name>', '<name>']")

    # ------------------------------------------------------------ process
    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Keep predicted and ground-truth keypoints and the normalisers.

        Args:
            data_batch: unused.
            data_samples: dicts with ``pred_instances`` and ``gt_instances``.
        """
        for sample in data_samples:
            pred = sample.get('pred_instances') or {}
            gt = sample.get('gt_instances') or {}
            if 'keypoints' not in pred or 'keypoints' not in gt:
                raise KeyError(f'{type(self).__name__}: a data sample lacks '
                               'pred_instances.keypoints or gt_instances.keypoints')
            gt_kpts = to_numpy(gt['keypoints']).astype(np.float64)
            gt_kpts = gt_kpts[None] if gt_kpts.ndim == 2 else gt_kpts
            pred_kpts = to_numpy(pred['keypoints']).astype(np.float64)
            pred_kpts = pred_kpts[None] if pred_kpts.ndim == 2 else pred_kpts
            pred_kpts = pred_kpts[..., :2]
            if pred_kpts.shape != gt_kpts.shape:
                raise ValueError(
                    f'{type(self).__name__} pairs each prediction with its ground truth, but '
                    f'a sample has predictions {pred_kpts.shape} and ground truth '
                    f'{gt_kpts.shape} (evaluate on ground-truth boxes)')
            num, num_kpts = gt_kpts.shape[:2]
            vis = gt.get('keypoints_visible')
            mask = (np.ones((num, num_kpts), bool) if vis is None else
                    to_numpy(vis).reshape(num, num_kpts) > 0)
            result: dict[str, Any] = dict(pred=pred_kpts.astype(np.float32),
                                          gt=gt_kpts.astype(np.float32), mask=mask)
            for item in self.norm_items:
                result[item] = self._norm(item, gt, gt_kpts, mask)
            self.results.append(result)

    def _norm(self, item: str, gt: dict, gt_kpts: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(N,) normaliser of one kind for the instances of a sample."""
        num = gt_kpts.shape[0]
        if item == 'bbox':
            if gt.get('bboxes') is None:
                raise KeyError("norm_item 'bbox' needs gt_instances.bboxes")
            b = to_numpy(gt['bboxes']).astype(np.float64).reshape(num, 4)
            return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        if item == 'head':
            if gt.get('head_size') is None:
                raise KeyError("norm_item 'head' needs gt_instances.head_size (MPII-style "
                               'data: the dataset provides it)')
            return to_numpy(gt['head_size']).astype(np.float64).reshape(num)
        a, b = self._torso_indices(gt_kpts.shape[1])
        size = np.linalg.norm(gt_kpts[:, a] - gt_kpts[:, b], axis=-1)
        return np.where(mask[:, a] & mask[:, b], size, np.nan)

    # ------------------------------------------------------------ compute
    def _stack(self, results: list) -> dict[str, np.ndarray]:
        out = {key: np.concatenate([r[key] for r in results]) for key in results[0]}
        return out

    def compute_metrics(self, results: list) -> dict[str, float]:
        """PCK per ``norm_item``, AUC, EPE and per-keypoint values.

        Args:
            results: the ``process`` outputs of every sample.

        Returns:
            e.g. ``{'PCK': ..., 'AUC': ..., 'EPE': ..., 'PCK/nose': ...,
            'EPE/nose': ...}``.
        """
        if not results:
            print_log(f'{type(self).__name__}: no samples to evaluate', logger='current',
                      level=logging.WARNING)
            return {}
        data = self._stack(results)
        pred, gt, mask = data['pred'], data['gt'], data['mask']
        names = self.keypoint_names(gt.shape[1])
        metrics: dict[str, float] = {}
        per_kpt: dict[str, np.ndarray] = {}
        counts: dict[str, int] = {}
        for item in self.norm_items:
            name = PCK_NAMES[item]
            per, overall, count = pck(pred, gt, mask, data[item], self.thr)
            metrics[name] = overall
            per_kpt[name] = per
            counts[name] = count
        first = self.norm_items[0]
        metrics['AUC'] = auc(pred, gt, mask, data[first], self.auc_max_thr, self.auc_num_thrs)
        epe_per, metrics['EPE'] = epe(pred, gt, mask)
        per_kpt['EPE'] = epe_per
        metrics.update(self._extra_metrics(data, names))
        if self.per_keypoint:
            for col, values in per_kpt.items():
                for kname, value in zip(names, values):
                    if np.isfinite(value):
                        metrics[f'{col}/{kname}'] = float(value)
        self._log_table(names, per_kpt, mask, metrics, counts)
        return metrics

    def _extra_metrics(self, data: dict[str, np.ndarray], names: list[str]) -> dict[str, float]:
        """Hook for subclasses: more metrics from the stacked results."""
        return {}

    def _log_table(self, names: list[str], per_kpt: dict[str, np.ndarray], mask: np.ndarray,
                   metrics: dict[str, float], counts: dict[str, int]) -> None:
        cols = list(per_kpt)
        width = max([len(n) for n in names] + [8])
        head = f'{"keypoint":<{width}} {"labelled":>8} ' + ' '.join(f'{c:>8}' for c in cols)
        lines = [f'{type(self).__name__} (thr {self.thr}, norm {self.norm_items}; EPE in px):',
                 head, '-' * len(head)]
        labelled = mask.sum(axis=0)
        for k, name in enumerate(names):
            vals = ' '.join('       -' if not np.isfinite(per_kpt[c][k]) else
                            f'{per_kpt[c][k]:8.4f}' for c in cols)
            lines.append(f'{name:<{width}} {int(labelled[k]):>8} {vals}')
        lines.append('-' * len(head))
        summary = ', '.join(f'{k}: {v:.4f}' for k, v in metrics.items() if '/' not in k)
        points = ', '.join(f'{k} over {v} points' for k, v in counts.items())
        lines.append(f'{summary} ({points})')
        print_log('\n'.join(lines), logger='current')


@METRICS.register_module()
class MpiiPCKAccuracy(PCKAccuracy):
    """PCKh on MPII: PCKh@0.5 and PCKh@0.1 with MPII's per-joint groups.

    Same inputs as :class:`PCKAccuracy` with ``norm_item='head'``. On the
    MPII 16-joint definition (recognised by its names, ``l_wrist`` or
    ``left_wrist`` style) it reports the MPII table: ``'Head'`` (head top),
    ``'Shoulder'``, ``'Elbow'``, ``'Wrist'``, ``'Hip'``, ``'Knee'``,
    ``'Ankle'`` (each the mean of the left and right joint's PCKh), and
    ``'Mean'``; ``'PCKh'`` and ``'PCKh@0.1'`` then follow MPII's convention
    of pooling all labelled joints except pelvis and thorax (``'Mean'`` is
    ``'PCKh'``; the second threshold's key is ``f'PCKh@{low_thr:g}'``). On
    any other definition ``'PCKh'`` and ``'PCKh@0.1'`` pool all keypoints
    and no groups are reported. AUC (PCKh over 0 .. 0.5) and
    EPE as in :class:`PCKAccuracy`. Values are fractions, not percentages.

    Args:
        thr: PCKh threshold (MPII: 0.5).
        low_thr: the second, strict threshold (MPII: 0.1).
        **kwargs: the other :class:`PCKAccuracy` arguments (``norm_item`` is
            always ``'head'``).
    """

    def __init__(self, thr: float = 0.5, low_thr: float = 0.1, **kwargs: Any) -> None:
        norm_item = kwargs.pop('norm_item', 'head')
        if norm_item not in ('head', ['head'], ('head',)):
            raise ValueError("MpiiPCKAccuracy always normalises by the head size "
                             "(norm_item='head')")
        super().__init__(thr=thr, norm_item='head', **kwargs)
        self.low_thr = float(low_thr)
        #: The name of the second PCKh (``'PCKh@0.1'`` by default).
        self.low_name = f'PCKh@{self.low_thr:g}'

    @staticmethod
    def mpii_indices(names: Sequence[str]) -> Optional[dict[str, int]]:
        """Canonical MPII joint name -> index, or None when ``names`` is not
        the MPII 16-joint definition."""
        canon = [_canonical_mpii(n) for n in names]
        if len(canon) != len(MPII_JOINTS) or set(canon) != set(MPII_JOINTS):
            return None
        return {n: i for i, n in enumerate(canon)}

    def _extra_metrics(self, data: dict[str, np.ndarray], names: list[str]) -> dict[str, float]:
        pred, gt, mask, head = data['pred'], data['gt'], data['mask'], data['head']
        index = self.mpii_indices(names)
        out: dict[str, float] = {}
        if index is None:
            out[self.low_name] = pck(pred, gt, mask, head, self.low_thr)[1]
            print_log('MpiiPCKAccuracy: the keypoint names are not the MPII 16-joint '
                      'definition; no per-group table', logger='current', level=logging.INFO)
            return out
        used = mask.copy()
        for joint in MPII_EXCLUDED:
            used[:, index[joint]] = False
        per, overall, _ = pck(pred, gt, mask, head, self.thr)
        for group, joints in MPII_GROUPS.items():
            out[group] = float(np.nanmean([per[index[j]] for j in joints])) if any(
                np.isfinite(per[index[j]]) for j in joints) else float('nan')
        out['Mean'] = pck(pred, gt, used, head, self.thr)[1]
        out['PCKh'] = out['Mean']
        out[self.low_name] = pck(pred, gt, used, head, self.low_thr)[1]
        table = ' | '.join(f'{g} {out[g]:.4f}' for g in (*MPII_GROUPS, 'Mean'))
        print_log(f'MpiiPCKAccuracy (PCKh@{self.thr}): {table}; PCKh@{self.low_thr} '
                  f'{out[self.low_name]:.4f}', logger='current')
        return out


__all__ = ['PCKAccuracy', 'MpiiPCKAccuracy', 'NORM_ITEMS', 'PCK_NAMES', 'MPII_JOINTS',
           'MPII_GROUPS']
