"""The files ``customkpt outliers`` writes for the picked frames.

Layout under the output folder (``<name>`` is the video's stem, ``imgNNN``
the frame index, zero-padded to the digits of the frame count)::

    outliers.json                       every frame's score and terms, the picks
    labelme/<name>/imgNNN.png + .json   --format labelme | both
    dlc/config.yaml                     --format dlc | both (a DeepLabCut-style
    dlc/labeled-data/<name>/imgNNN.png    project: convert dlc / merge-labels
    dlc/labeled-data/<name>/CollectedData_<scorer>.csv   read it back)
    coco/annotations.json               --format coco (file_names relative to
    coco/images/<name>/imgNNN.png         coco/; merge-labels reads it back)

Labels are the model's predictions (every point, ``v = 2``; in the COCO
file, points scoring below ``label_thr`` are unlabelled, ``(0, 0, 0)``, and
an instance keeps a box around its labelled points made as the converters
make it, with its point scores in ``keypoint_scores``); the Labelme
shapes carry the point score in ``description`` and the track id as
``group_id``. A frame with several instances gives the multi-animal
DeepLabCut layout (``individual1``, ``individual2``, ... in track order).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from customkpt.apis.outlier_scores import TERMS
from customkpt.apis.outliers import OutlierReport
from customkpt.apis.sources import FrameSource
from customkpt.converters import write_json
from customkpt.converters.builder import bbox_from_points
from customkpt.converters.category import make_category
from customkpt.converters.export_dlc import coco_to_dlc
from customkpt.converters.labelme_export import LabelmeInstance, write_labelme

__all__ = ['ExportedFiles', 'export_picked', 'frame_name', 'write_report']


@dataclass
class ExportedFiles:
    """What :func:`export_picked` wrote."""

    frames: int = 0
    labelme_dir: Path | None = None
    dlc_project: Path | None = None
    dlc_table: Path | None = None
    coco_file: Path | None = None
    left_out: int = 0
    missing: list[int] = field(default_factory=list)


def frame_name(frame_idx: int, num_frames: int) -> str:
    """``img`` + the index zero-padded to the digits of the last frame."""
    digits = len(str(max(int(num_frames) - 1, int(frame_idx), 0)))
    return f'img{int(frame_idx):0{digits}d}'


def _read_frames(source: FrameSource, wanted: set[int], progress: bool
                 ) -> dict[int, np.ndarray]:
    """The wanted frames, read in one pass that stops after the last one."""
    from tqdm import tqdm
    got: dict[int, np.ndarray] = {}
    last = max(wanted)
    bar = tqdm(total=last + 1, unit='frame', desc='reading picked frames',
               disable=not progress)
    for idx, _, frame in source:
        bar.update(1)
        if idx in wanted:
            got[idx] = frame
        if idx >= last:
            break
    bar.close()
    return got


def _frame_instances(report: OutlierReport, frame_idx: int) -> list[int]:
    """Table rows of one frame, in track order."""
    rows = np.flatnonzero(report.table.frame_idx == frame_idx)
    return [int(r) for r in rows[np.argsort(report.table.track_id[rows], kind='stable')]]


def _annotation(keypoints: np.ndarray, scores: np.ndarray, label_thr: float, width: int,
                height: int) -> dict | None:
    """A COCO annotation of one predicted instance: points scoring at least
    ``label_thr`` labelled (``v = 2``), the others ``(0, 0, 0)``; ``None``
    when no point is left or its box has no area in the image."""
    keep = np.isfinite(keypoints).all(axis=1) & (scores >= label_thr)
    if not keep.any():
        return None
    box = bbox_from_points(keypoints[keep], width, height)
    if box is None:
        return None
    kpts = np.zeros((len(keypoints), 3), np.float64)
    kpts[keep] = np.concatenate([keypoints[keep], np.full((int(keep.sum()), 1), 2.0)], axis=1)
    return dict(keypoints=[round(float(v), 3) for v in kpts.ravel()], num_keypoints=int(keep.sum()),
                bbox=[round(float(v), 3) for v in box], area=round(float(box[2] * box[3]), 3),
                iscrowd=0, keypoint_scores=[round(float(v), 4) for v in scores])


def _coco_of(report: OutlierReport, frames: dict[int, np.ndarray], names: Sequence[str],
             prefix: str, num_frames: int, label_thr: float = -np.inf) -> tuple[dict, int]:
    """The predictions of the picked frames as a COCO dict, file names under
    ``prefix``, and the number of instances left out (no point at ``label_thr``)."""
    t = report.table
    images, anns, left_out = [], [], 0
    for img_id, f in enumerate(sorted(frames), start=1):
        h, w = frames[f].shape[:2]
        images.append(dict(id=img_id, file_name=f'{prefix}{frame_name(f, num_frames)}.png',
                           width=int(w), height=int(h), frame_idx=int(f)))
        for r in _frame_instances(report, f):
            ann = _annotation(t.keypoints[r], t.scores[r], label_thr, w, h)
            if ann is None:
                left_out += 1
                continue
            anns.append(dict(id=len(anns) + 1, image_id=img_id, category_id=1,
                             track_id=int(t.track_id[r]), **ann))
    return dict(images=images, annotations=anns,
                categories=[dict(id=1, name='object', keypoints=list(names))]), left_out


def _write_frames(folder: Path, frames: dict[int, np.ndarray], num_frames: int) -> None:
    """The frames as ``folder/imgNNN.png`` (the folder created)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f, img in frames.items():
        cv2.imwrite(str(folder / f'{frame_name(f, num_frames)}.png'), img)


def _write_coco(out: Path, report: OutlierReport, frames: dict[int, np.ndarray],
                meta: dict, stem: str, num_frames: int, label_thr: float) -> tuple[Path, int]:
    _write_frames(out / 'coco' / 'images' / stem, frames, num_frames)
    names = [str(n) for n in meta.get('keypoint_names') or []]
    coco, left_out = _coco_of(report, frames, names, f'images/{stem}/', num_frames, label_thr)
    coco['categories'] = [make_category(str(meta.get('dataset_name') or 'object'), names,
                                        meta.get('skeleton') or (),
                                        flip_pairs=meta.get('flip_pairs') or [],
                                        source='the model\'s keypoint meta')]
    return write_json(coco, out / 'coco' / 'annotations.json'), left_out


def _write_labelme(out: Path, report: OutlierReport, frames: dict[int, np.ndarray],
                   names: Sequence[str], stem: str, num_frames: int) -> Path:
    folder = out / 'labelme' / stem
    folder.mkdir(parents=True, exist_ok=True)
    t = report.table
    for f, img in frames.items():
        name = frame_name(f, num_frames)
        cv2.imwrite(str(folder / f'{name}.png'), img)
        instances = [LabelmeInstance(int(t.track_id[r]), t.keypoints[r], t.scores[r])
                     for r in _frame_instances(report, f)]
        write_labelme(folder / f'{name}.json', f'{name}.png', img.shape[1], img.shape[0],
                      instances, names)
    return out / 'labelme'


def _dlc_config(names: Sequence[str], meta: dict, scorer: str, individuals: list[str] | None
                ) -> dict[str, Any]:
    skeleton = [[names[a], names[b]] for a, b in meta.get('skeleton') or []
                if a < len(names) and b < len(names)]
    cfg: dict[str, Any] = dict(Task=str(meta.get('dataset_name') or 'customkpt'),
                               scorer=scorer, multianimalproject=individuals is not None,
                               skeleton=skeleton)
    if individuals is None:
        cfg['bodyparts'] = list(names)
    else:
        cfg.update(individuals=individuals, multianimalbodyparts=list(names),
                   uniquebodyparts=[], bodyparts='MULTI!')
    return cfg


def _write_dlc(out: Path, report: OutlierReport, frames: dict[int, np.ndarray],
               names: Sequence[str], meta: dict, stem: str, scorer: str,
               num_frames: int) -> tuple[Path, Path]:
    import yaml
    project = out / 'dlc'
    folder = project / 'labeled-data' / stem
    _write_frames(folder, frames, num_frames)
    coco, _ = _coco_of(report, frames, names, f'labeled-data/{stem}/', num_frames)
    done = coco_to_dlc(coco, folder, scorer=scorer, source='picked frames')
    cfg = _dlc_config(names, meta, scorer, done.individuals)
    (project / 'config.yaml').write_text(yaml.safe_dump(cfg, sort_keys=False), encoding='utf-8')
    return project, done.path


def export_picked(source: FrameSource, report: OutlierReport, meta: dict, out_dir: str | Path,
                  formats: Sequence[str] = ('labelme', 'dlc'), scorer: str = 'customkpt',
                  progress: bool = True, label_thr: float = 0.0) -> ExportedFiles:
    """Write the picked frames and their predictions in ``formats``
    (``'labelme'``, ``'dlc'``, ``'coco'``; ``label_thr``: see the module)."""
    out = Path(out_dir)
    names = [str(n) for n in meta.get('keypoint_names') or []]
    wanted = set(report.picked_frames)
    done = ExportedFiles()
    if not wanted:
        return done
    frames = _read_frames(source, wanted, progress)
    done.frames, done.missing = len(frames), sorted(wanted - set(frames))
    num_frames = max(len(source), max(wanted) + 1)
    if 'labelme' in formats:
        done.labelme_dir = _write_labelme(out, report, frames, names, source.name, num_frames)
    if 'dlc' in formats:
        done.dlc_project, done.dlc_table = _write_dlc(out, report, frames, names, meta,
                                                      source.name, scorer, num_frames)
    if 'coco' in formats:
        done.coco_file, done.left_out = _write_coco(out, report, frames, meta, source.name,
                                                    num_frames, label_thr)
    return done


def write_report(path: str | Path, report: OutlierReport, source: FrameSource,
                 settings: dict[str, Any]) -> Path:
    """``outliers.json``: the settings, the picks (best first) and every
    frame's score, worst instance, and raw and normalised terms."""
    s = report.scores
    num_frames = max(len(source), int(s.frames.max()) + 1 if len(s.frames) else 0)

    def row(i: int) -> dict[str, Any]:
        r = int(s.worst[i])
        return dict(frame_idx=int(s.frames[i]), name=frame_name(int(s.frames[i]), num_frames),
                    score=round(float(s.frame_score[i]), 4),
                    track_id=int(report.table.track_id[r]),
                    terms={t: round(float(s.raw[t][r]), 5) for t in TERMS},
                    normalised={t: round(float(s.normalised[t][r]), 3) for t in TERMS})

    data = dict(source=str(source.src), frames_scored=len(s.frames),
                frames_read=report.summary.frames, weights=s.weights, settings=settings,
                picked=[row(int(i)) for i in report.picked],
                frames=[row(i) for i in range(len(s.frames))])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding='utf-8')
    return path
