"""customkpt's registries are children of mmengine's, scope 'customkpt'."""
import json
import subprocess
import sys
import textwrap

import mmengine.registry as mmreg

import customkpt.registry as reg


def test_every_registry_is_a_customkpt_child_of_mmengine():
    pairs = [(reg.DATASETS, mmreg.DATASETS), (reg.TRANSFORMS, mmreg.TRANSFORMS),
             (reg.MODELS, mmreg.MODELS), (reg.METRICS, mmreg.METRICS),
             (reg.HOOKS, mmreg.HOOKS), (reg.VISUALIZERS, mmreg.VISUALIZERS),
             (reg.OPTIM_WRAPPER_CONSTRUCTORS, mmreg.OPTIM_WRAPPER_CONSTRUCTORS)]
    for child, parent in pairs:
        assert child.scope == 'customkpt'
        assert child.parent is parent
        assert parent.children['customkpt'] is child
    assert reg.KEYPOINT_CODECS.scope == 'customkpt'


def test_other_mmengine_project_builds_customkpt_dataset(tmp_path):
    """A config with default scope 'mmengine' reaches customkpt through
    custom_imports, in a fresh interpreter that never imported customkpt."""
    ann = {
        'images': [{'id': 1, 'file_name': 'a.png', 'width': 8, 'height': 8}],
        'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 5, 5],
                         'area': 25, 'iscrowd': 0, 'num_keypoints': 2,
                         'keypoints': [2, 2, 2, 4, 4, 2, 0, 0, 0]}],
        'categories': [{'id': 1, 'name': 'thing', 'keypoints': ['a', 'b', 'c']}],
    }
    (tmp_path / 'ann.json').write_text(json.dumps(ann))
    import cv2
    import numpy as np
    cv2.imwrite(str(tmp_path / 'a.png'), np.zeros((8, 8, 3), np.uint8))
    cfg = tmp_path / 'other_project.py'
    cfg.write_text(textwrap.dedent(f"""
        default_scope = 'mmengine'
        custom_imports = dict(imports=['customkpt'], allow_failed_imports=False)
        dataset = dict(type='customkpt.CocoKeypointDataset', ann_file='ann.json',
                       data_root={str(tmp_path)!r}, metainfo=dict(sigmas=[0.05] * 3),
                       pipeline=[])
    """))
    script = textwrap.dedent(f"""
        import sys
        from mmengine.config import Config
        from mmengine.registry import DATASETS, init_default_scope
        assert 'customkpt' not in sys.modules
        cfg = Config.fromfile({str(cfg)!r})
        init_default_scope(cfg.default_scope)
        ds = DATASETS.build(cfg.dataset)
        print(type(ds).__module__, type(ds).__name__, len(ds), ds.metainfo['num_keypoints'])
    """)
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'customkpt.datasets.coco CocoKeypointDataset 1 3' in out.stdout
