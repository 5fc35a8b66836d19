"""Fixtures of the converter tests: the real data folder and generators of
small DeepLabCut / Labelme projects."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT / '..' / 'shared' / 'data'
MOUSE_PROJECT = SHARED_DATA / 'openfield-mouse'
MPII_SAMPLE = SHARED_DATA / 'mmpose-samples' / 'mpii' / 'test_mpii.json'
AIC_SAMPLE = SHARED_DATA / 'mmpose-samples' / 'aic' / 'test_aic.json'


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f'real data not available: {path.resolve()} is absent '
                    '(the shared data folder ../shared/data sits beside the repository)')
    return path


@pytest.fixture
def mouse_project() -> Path:
    """The real DeepLabCut openfield project (skips when absent)."""
    return _require(MOUSE_PROJECT / 'config.yaml').parent


@pytest.fixture
def mpii_sample() -> Path:
    """The real MPII json sample (skips when absent)."""
    return _require(MPII_SAMPLE)


@pytest.fixture
def aic_sample() -> Path:
    """The real AI Challenger sample in COCO layout, with its images."""
    return _require(AIC_SAMPLE)


def write_image(path: Path, width: int, height: int) -> Path:
    """A small PNG/JPEG of the given size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((height, width, 3), 127, dtype=np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture(name='write_image')
def write_image_fixture() -> Callable[[Path, int, int], Path]:
    """:func:`write_image`, for tests (no imports from this conftest)."""
    return write_image


@pytest.fixture
def make_dlc_project(tmp_path: Path) -> Callable[..., Path]:
    """Factory of DeepLabCut projects.

    ``make(folders={name: [(frame, {(individual, part): (x, y) or None})]},
    bodyparts=[...], individuals=None | [...], index_cols=1 | 3 per folder,
    unique=[...], skeleton=[...], size=(w, h))``; coordinates missing from a
    frame's dict are left empty.
    """
    def make(folders: dict, bodyparts: list[str], individuals: list[str] | None = None,
             index_cols: dict | None = None, unique: list[str] | None = None,
             skeleton: list | None = None, size: tuple[int, int] = (64, 48),
             root: Path | None = None) -> Path:
        project = root or (tmp_path / 'proj')
        multi = individuals is not None
        cfg = {'Task': 'test', 'scorer': 'tester', 'multianimalproject': multi,
               'skeleton': skeleton or []}
        if multi:
            cfg.update(bodyparts='MULTI!', multianimalbodyparts=bodyparts,
                       individuals=individuals, uniquebodyparts=unique or [])
        else:
            cfg['bodyparts'] = bodyparts
        project.mkdir(parents=True, exist_ok=True)
        (project / 'config.yaml').write_text(yaml.safe_dump(cfg))
        columns = ([(ind, bp) for ind in individuals for bp in bodyparts]
                   + [('single', bp) for bp in unique or []]) if multi else \
            [(None, bp) for bp in bodyparts]
        for folder, frames in folders.items():
            n_index = (index_cols or {}).get(folder, 1)
            fdir = project / 'labeled-data' / folder
            pad = [''] * (n_index - 1)
            rows = [['scorer'] + pad + ['tester'] * 2 * len(columns)]
            if multi:
                rows.append(['individuals'] + pad + [c[0] for c in columns for _ in 'xy'])
            rows.append(['bodyparts'] + pad + [c[1] for c in columns for _ in 'xy'])
            rows.append(['coords'] + pad + ['x', 'y'] * len(columns))
            for frame, points in frames:
                write_image(fdir / frame, *size)
                index = ([f'labeled-data/{folder}/{frame}'] if n_index == 1
                         else ['labeled-data', folder, frame])
                cells = []
                for col in columns:
                    xy = points.get(col if multi else col[1])
                    cells += ['', ''] if xy is None else [repr(float(xy[0])), repr(float(xy[1]))]
                rows.append(index + cells)
            with open(fdir / 'CollectedData_tester.csv', 'w', newline='') as fh:
                csv.writer(fh).writerows(rows)
        return project
    return make
