"""Shared fixtures of the dataset tests: tiny generated COCO files and the
real samples beside the project (``../shared/data``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT / '..' / 'shared' / 'data'
SAMPLES = SHARED_DATA / 'mmpose-samples'


@pytest.fixture(scope='session', autouse=True)
def _session_logger() -> None:
    """Create mmengine's logger outside any test, so that its console handler
    is not bound to the stream of one test's ``capsys`` (closed afterwards)."""
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance()


@pytest.fixture(scope='session')
def samples() -> Path:
    """The MMPose sample folder, or skip."""
    if not (SAMPLES / 'coco' / 'test_coco.json').is_file():
        pytest.skip(f'real sample data not found at {SAMPLES.resolve()} '
                    '(only present beside the project checkout)')
    return SAMPLES


def write_image(path: Path, width: int, height: int) -> None:
    """A small grey PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((height, width, 3), 127, np.uint8))


@pytest.fixture
def write_coco(tmp_path: Path) -> Callable[..., Path]:
    """Write a COCO-keypoint json (and a PNG per image) into ``tmp_path``.

    Call as ``write_coco(images, annotations, keypoint_names, ...)``; images
    default to 64 x 48 pixels and are written under ``img/``.
    """
    def write(images: list[dict], annotations: list[dict],
              keypoint_names: list[str] | None = None, name: str = 'ann.json',
              categories: list[dict] | None = None, make_images: bool = True) -> Path:
        images = [dict({'width': 64, 'height': 48}, **img) for img in images]
        if categories is None:
            categories = [{'id': 1, 'name': 'thing', 'keypoints': keypoint_names or []}]
        if make_images:
            for img in images:
                write_image(tmp_path / 'img' / img['file_name'], img['width'], img['height'])
        path = tmp_path / name
        path.write_text(json.dumps({'images': images, 'annotations': annotations,
                                    'categories': categories}))
        return path
    return write


def ann(aid: int, image_id: int, points: list[tuple[float, float, int]], **extra: Any) -> dict:
    """A COCO annotation with ``points`` as (x, y, v) triples."""
    flat = [float(c) for p in points for c in p]
    out = {'id': aid, 'image_id': image_id, 'category_id': 1, 'iscrowd': 0,
           'keypoints': flat, 'num_keypoints': sum(1 for p in points if p[2] > 0)}
    out.update(extra)
    return out
