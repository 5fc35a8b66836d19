"""``train --data`` parses each COCO-keypoint file once per run: recognising,
finding the images, splitting and reading the definition share what was read."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from customkpt.apis.quickstart import prepare_run

from . import quickstart_kit as kit

pytestmark = pytest.mark.filterwarnings("ignore::customkpt.meta.errors.KeypointMetaWarning")


@pytest.fixture
def parses(monkeypatch) -> Counter:
    """json parses while the test runs, by resolved file (``<text>`` for ``json.loads``)."""
    counts: Counter = Counter()
    loads = json.loads

    def counting_load(fh, *args, **kwargs):
        counts[str(Path(fh.name).resolve())] += 1
        return loads(fh.read(), *args, **kwargs)

    def counting_loads(text, *args, **kwargs):
        counts['<text>'] += 1
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, 'load', counting_load)
    monkeypatch.setattr(json, 'loads', counting_loads)
    return counts


def _file(root: Path) -> tuple[Path, list[Path]]:
    train = kit.coco(root, 8)
    return train, [train]


def _folder(root: Path) -> tuple[Path, list[Path]]:
    files = [kit.coco(root, 6), kit.coco(root, 3, file_name='val.json')]
    return root, files


@pytest.mark.parametrize('layout', [_file, _folder], ids=['train file', 'train+val folder'])
def test_each_coco_file_is_parsed_once(layout, tmp_path, parses):
    data, files = layout(tmp_path / 'data')
    plan = prepare_run(data, model='hrnet-cpu', work_dir=tmp_path / 'w',
                       memory=kit.no_memory_limit)
    assert dict(parses) == {str(f.resolve()): 1 for f in files}
    assert plan.facts.num_instances == len(json.loads(plan.data.train_file.read_text())[
        'annotations'])
    # what was read is not held on through training
    assert plan.source.coco is None and plan.source.val_coco is None
    assert plan.data.train_coco is None
