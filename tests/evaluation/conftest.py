"""Shared fixtures of the evaluation tests."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT / '..' / 'shared' / 'data'
SAMPLES = SHARED_DATA / 'mmpose-samples'


@pytest.fixture(scope='session', autouse=True)
def _session_logger() -> None:
    """Create mmengine's logger outside any test, so that its console handler
    is not bound to the stream of one test's ``capsys``."""
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance()


@pytest.fixture(scope='session')
def coco_sample_file() -> Path:
    """The real COCO sample annotation file, or skip."""
    path = SAMPLES / 'coco' / 'test_coco.json'
    if not path.is_file():
        pytest.skip(f'real sample data not found at {path.resolve()} '
                    '(only present beside the project checkout)')
    return path
