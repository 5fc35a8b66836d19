"""Which COCOeval implementation runs the keypoint evaluation.

``'faster'`` is faster-coco-eval's ``COCOeval_faster`` (per-image matching
and accumulation in C++) with the keypoint OKS and the loading of results in
numpy (:mod:`~customkpt.evaluation.coco_fast`), ``'pycocotools'`` and
``'xtcocotools'`` the Python ones; ``'auto'`` takes faster-coco-eval when it
is importable, else pycocotools. All three get the definition's own sigmas
and the same keypoint parameters (:data:`KEYPOINT_MAX_DETS`,
:data:`KEYPOINT_AREA_RANGES`), and give the same ten numbers.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from mmengine.logging import print_log

__all__ = ['BACKENDS', 'KEYPOINT_MAX_DETS', 'KEYPOINT_AREA_RANGES', 'resolve_backend',
           'coco_backend', 'make_keypoint_eval', 'load_results']

BACKENDS = ('auto', 'faster', 'pycocotools', 'xtcocotools')
#: COCO's keypoint parameters: one detection limit and the (all, medium,
#: large) object-area ranges in pixels^2.
KEYPOINT_MAX_DETS = (20,)
KEYPOINT_AREA_RANGES = (('all', (0.0, 1e5 ** 2)), ('medium', (32.0 ** 2, 96.0 ** 2)),
                        ('large', (96.0 ** 2, 1e5 ** 2)))
_INSTALL = {'faster': 'faster-coco-eval (pip install customkpt[fast_eval])',
            'pycocotools': 'pycocotools (pip install pycocotools)',
            'xtcocotools': 'xtcocotools (pip install customkpt[xtcoco])'}
_LOGGED: set = set()


def _import_classes(backend: str) -> tuple[type, type]:
    """(COCO, COCOeval) of a concrete backend; ImportError when it is absent."""
    if backend == 'faster':
        from faster_coco_eval import COCO  # ImportError here when it is absent

        from .coco_fast import FasterKeypointEval
        return COCO, FasterKeypointEval
    if backend == 'xtcocotools':
        from xtcocotools.coco import COCO
        from xtcocotools.cocoeval import COCOeval
        return COCO, COCOeval
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    return COCO, COCOeval


def coco_backend(backend: str) -> tuple[str, type, type]:
    """The concrete backend that ``backend`` names, and its (COCO, COCOeval)
    classes.

    Args:
        backend: one of :data:`BACKENDS`.

    Raises:
        ValueError: an unknown name.
        ImportError: the named library is not installed (the message says
            what to install); ``'auto'`` falls back to pycocotools instead.
    """
    if backend not in BACKENDS:
        raise ValueError(f'COCO evaluation backend must be one of {BACKENDS}, got {backend!r}')
    if backend == 'auto':
        try:
            name, classes = 'faster', _import_classes('faster')
        except ImportError:
            name, classes = 'pycocotools', _import_classes('pycocotools')
    else:
        name = backend
        try:
            classes = _import_classes(name)
        except ImportError as exc:
            others = [b for b in BACKENDS if b not in (name, 'auto')]
            raise ImportError(f'COCO evaluation backend {name!r} needs {_INSTALL[name]}; or '
                              f"set backend='auto' or one of {others}") from exc
    if (backend, name) not in _LOGGED:
        _LOGGED.add((backend, name))
        print_log(f'COCO keypoint evaluation: backend {name!r} (asked for {backend!r})',
                  logger='current')
    return (name, *classes)


def resolve_backend(backend: str) -> str:
    """The concrete backend (``'faster'``, ``'pycocotools'`` or
    ``'xtcocotools'``) that ``backend`` runs; see :func:`coco_backend`."""
    return coco_backend(backend)[0]


def make_keypoint_eval(backend: str, eval_cls: type, coco_gt: Any, coco_dt: Any,
                       sigmas: np.ndarray, use_area: bool) -> Any:
    """A keypoint COCOeval of the concrete ``backend`` with the given
    sigmas and COCO's keypoint parameters.

    Args:
        backend: ``'faster'``, ``'pycocotools'`` or ``'xtcocotools'``.
        eval_cls: that backend's COCOeval class.
        coco_gt, coco_dt: ground truth and results as that backend's COCO.
        sigmas: (K,) OKS sigmas.
        use_area: only xtcocotools reads it (its own box-area scale when
            False); the others expect the areas already rescaled.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    if backend == 'faster':
        # print_function=print: the summary goes to stdout like the others'
        ev = eval_cls(coco_gt, coco_dt, 'keypoints', kpt_oks_sigmas=sigmas, use_area=True,
                      print_function=print)
    elif backend == 'xtcocotools':
        ev = eval_cls(coco_gt, coco_dt, 'keypoints', sigmas, use_area=use_area)
        ev.params.useSegm = None
    else:
        ev = eval_cls(coco_gt, coco_dt, 'keypoints')
        ev.params.kpt_oks_sigmas = sigmas
        ev.params.useSegm = None
    ev.params.maxDets = list(KEYPOINT_MAX_DETS)
    ev.params.areaRngLbl = [label for label, _ in KEYPOINT_AREA_RANGES]
    ev.params.areaRng = [list(rng) for _, rng in KEYPOINT_AREA_RANGES]
    return ev


def load_results(backend: str, coco_gt: Any, results: list[dict]) -> Any:
    """Keypoint results as the concrete ``backend``'s COCO, as
    ``coco_gt.loadRes`` makes it (``results`` themselves are left as they
    are).

    Args:
        backend: ``'faster'``, ``'pycocotools'`` or ``'xtcocotools'``.
        coco_gt: the ground truth as that backend's COCO, indexed.
        results: non-empty COCO keypoint results on images of ``coco_gt``.
    """
    if backend == 'faster':
        from .coco_fast import load_keypoint_results
        return load_keypoint_results(coco_gt, results)
    return coco_gt.loadRes([dict(r) for r in results])  # loadRes adds keys to each dict
