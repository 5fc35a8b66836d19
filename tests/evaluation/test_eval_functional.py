"""The pure-numpy evaluation functions on hand-computed cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from customkpt.evaluation.functional import (auc, auc_thresholds, epe, pck, pck_curve,
                                             rescore_instances)


def test_rescore_instances() -> None:
    kscores = np.array([[0.9, 0.5, 0.1, 0.3],   # above 0.2: 0.9, 0.5, 0.3 -> 0.5667
                        [0.1, 0.2, 0.05, 0.0]])  # none above 0.2 -> 0
    box = np.array([0.5, 0.8])
    got = rescore_instances(kscores, box, 'bbox_keypoint', 0.2)
    assert got == pytest.approx([0.5 * (0.9 + 0.5 + 0.3) / 3, 0.0])
    assert rescore_instances(kscores, box, 'bbox').tolist() == [0.5, 0.8]
    assert rescore_instances(kscores, box, 'keypoint') == pytest.approx([1.7 / 3, 0.0])
    assert rescore_instances(kscores, None) == pytest.approx([1.7 / 3, 0.0])
    with pytest.raises(ValueError):
        rescore_instances(kscores, box, 'rle')


def test_pck_epe_auc_hand_computed() -> None:
    gt = np.zeros((1, 5, 2))
    # errors 3, 4.9, 5, 10 along x; point 4 unlabelled with a huge error
    pred = np.array([[[3.0, 0.0], [4.9, 0.0], [0.0, 5.0], [6.0, 8.0], [500.0, 0.0]]])
    mask = np.array([[True, True, True, True, False]])
    per, overall, count = pck(pred, gt, mask, np.array([100.0]), 0.05)  # 5 px
    assert count == 4
    assert overall == pytest.approx(0.5)  # 3 and 4.9 are < 5; 5 is not (strict)
    assert per[:4].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(per[4])
    per_epe, mean_epe = epe(pred, gt, mask)
    assert mean_epe == pytest.approx((3 + 4.9 + 5 + 10) / 4)
    assert per_epe[:4] == pytest.approx([3, 4.9, 5, 10]) and np.isnan(per_epe[4])
    # normalised errors 0.03, 0.049, 0.05, 0.1: PCK at 0.01..0.5 step 0.01
    thrs = auc_thresholds(0.5, 50)
    assert thrs[0] == pytest.approx(0.01) and thrs[-1] == pytest.approx(0.5)
    curve = pck_curve(pred, gt, mask, np.array([100.0]), thrs)
    # correct counts: t=0.01..0.03 -> 0; 0.04 -> 1; 0.05 -> 2; 0.06..0.10 -> 3; >0.10 -> 4
    expected = np.array([0, 0, 0, 1, 2, 3, 3, 3, 3, 3] + [4] * 40) / 4
    assert curve == pytest.approx(expected)
    assert auc(pred, gt, mask, np.array([100.0]), 0.5, 50) == pytest.approx(expected.mean())
    assert auc(gt, gt, mask, np.array([100.0])) == pytest.approx(1.0)
    # a non-positive norm removes the instance; nothing left -> NaN
    _, none, n = pck(pred, gt, mask, np.array([0.0]), 0.05)
    assert n == 0 and math.isnan(none)
