"""customkpt merge-labels on COCO files: ids, paths, the kept original, and
no torch needed."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _coco(files, first_id=1):
    images = [dict(id=first_id + i, file_name=f, width=10, height=10) for i, f in enumerate(files)]
    anns = [dict(id=first_id + i, image_id=first_id + i, category_id=1, bbox=[0, 0, 5, 5],
                 keypoints=[1, 1, 2, 2, 2, 2]) for i in range(len(files))]
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='x', keypoints=['a', 'b'])])


def test_merge_of_a_json_runs_without_torch(tmp_path):
    train = tmp_path / 'data' / 'train.json'
    train.parent.mkdir()
    train.write_text(json.dumps(_coco(['img/1.png', 'img/2.png'], first_id=5)))
    new = tmp_path / 'labels' / 'new.json'
    new.parent.mkdir()
    new.write_text(json.dumps(_coco(['f/1.png'])))
    out = tmp_path / 'merged.json'
    code = textwrap.dedent(f"""
        import sys
        for name in ('torch', 'mmengine', 'mmcv'):
            sys.modules[name] = None
        from customkpt.cli import run
        status = run('merge-labels', [{str(train)!r}, {str(new)!r}, '--out', {str(out)!r}])
        again = run('merge-labels', [{str(out)!r}, {str(new)!r}, '--out', {str(out)!r}])
        print(status, again)
    """)
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, cwd=str(ROOT))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-2:] == ['0', '2']
    assert 'is the training json' in res.stderr
    coco = json.loads(out.read_text())
    assert [m['id'] for m in coco['images']] == [5, 6, 7]
    assert coco['images'][-1]['file_name'] == '../labels/f/1.png'
    assert [a['image_id'] for a in coco['annotations']] == [5, 6, 7]
    assert len(json.loads(train.read_text())['images']) == 2
