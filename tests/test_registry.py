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


def _one_image_dataset(folder, size: int, scale: int) -> None:
    """``folder/ann.json`` (one image of ``size`` px, one instance with 2 of 3
    points labelled, coordinates times ``scale``) and the black ``a.png``."""
    import cv2
    import numpy as np
    ann = {
        'images': [{'id': 1, 'file_name': 'a.png', 'width': size, 'height': size}],
        'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1,
                         'bbox': [scale, scale, 5 * scale, 5 * scale],
                         'area': 25 * scale ** 2, 'iscrowd': 0, 'num_keypoints': 2,
                         'keypoints': [2 * scale, 2 * scale, 2, 4 * scale, 4 * scale, 2, 0, 0, 0]}],
        'categories': [{'id': 1, 'name': 'thing', 'keypoints': ['a', 'b', 'c']}],
    }
    (folder / 'ann.json').write_text(json.dumps(ann))
    cv2.imwrite(str(folder / 'a.png'), np.zeros((size, size, 3), np.uint8))


def test_other_mmengine_project_builds_customkpt_dataset(tmp_path):
    """A config with default scope 'mmengine' reaches customkpt through
    custom_imports, in a fresh interpreter that never imported customkpt."""
    _one_image_dataset(tmp_path, size=8, scale=1)
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


def test_customkpt_scope_builds_lazily_and_loads_checkpoints_safely(tmp_path):
    """With default_scope 'customkpt' and nothing imported but mmengine,
    a build imports customkpt.registry (installing the safe checkpoint
    loader) and the registering modules; a code-running pickle is then
    refused by mmengine's own load_checkpoint."""
    script = textwrap.dedent(f"""
        import os, sys, torch
        from mmengine.registry import MODELS, init_default_scope
        from mmengine.runner.checkpoint import _load_checkpoint
        assert 'customkpt' not in sys.modules
        init_default_scope('customkpt')
        model = MODELS.build(dict(type='TopdownEstimator',
                                  backbone=dict(type='HRNet', arch='tiny'),
                                  head=dict(type='HeatmapHead', in_channels=16,
                                            out_channels=3)))
        print(type(model).__module__, 'customkpt.models' in sys.modules)

        class RunsCode:
            def __reduce__(self):
                return (os.system, ('true',))

        path = {str(tmp_path / 'evil.pth')!r}
        torch.save(dict(x=RunsCode()), path)
        try:
            _load_checkpoint(path)
        except Exception as exc:
            print(type(exc).__name__)
    """)
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.split()  # mmengine logs the loader it uses in between
    assert lines[:2] == ['customkpt.models.estimator', 'True']
    assert lines[-1] == 'UnsafeCheckpointError'


def test_nested_bare_types_inside_a_prefixed_customkpt_type(tmp_path):
    """Only the outer type carries the ``customkpt.`` prefix: the dataset's
    pipeline and the estimator's parts are built in customkpt's scope, while
    the calling project's default scope stays 'mmengine'."""
    _one_image_dataset(tmp_path, size=32, scale=4)
    cfg = tmp_path / 'other_project.py'
    cfg.write_text(textwrap.dedent(f"""
        default_scope = 'mmengine'
        custom_imports = dict(imports=['customkpt'], allow_failed_imports=False)
        dataset = dict(type='customkpt.CocoKeypointDataset', ann_file='ann.json',
                       data_root={str(tmp_path)!r}, metainfo=dict(sigmas=[0.05] * 3),
                       pipeline=[dict(type='LoadImage'), dict(type='GetBBoxCenterScale'),
                                 dict(type='TopdownAffine', input_size=(32, 32)),
                                 dict(type='PackPoseInputs')])
        model = dict(type='customkpt.TopdownEstimator',
                     backbone=dict(type='HRNet', arch='tiny'),
                     head=dict(type='HeatmapHead', in_channels=16, out_channels=3,
                               decoder=dict(type='MSRAHeatmap', input_size=(32, 32),
                                            heatmap_size=(8, 8), sigma=2.0)))
    """))
    script = textwrap.dedent(f"""
        from mmengine.config import Config
        from mmengine.registry import DATASETS, MODELS, DefaultScope, init_default_scope
        from mmengine.utils import import_modules_from_strings
        cfg = Config.fromfile({str(cfg)!r})
        import_modules_from_strings(**cfg.custom_imports)
        init_default_scope(cfg.default_scope)
        ds = DATASETS.build(cfg.dataset)
        sample = ds[0]
        model = MODELS.build(cfg.model)
        print([type(t).__name__ for t in ds.pipeline.transforms], tuple(sample['inputs'].shape))
        print(type(model.backbone).__name__, type(model.head).__name__,
              DefaultScope.get_current_instance().scope_name)
    """)
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[-2:] == [
        "['LoadImage', 'GetBBoxCenterScale', 'TopdownAffine', 'PackPoseInputs'] (3, 32, 32)",
        'HRNet HeatmapHead mmengine']
