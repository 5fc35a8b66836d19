"""Every converter on realistic files: records in and out, skipped with
reasons, labelled points in and out (matched to the source), wall time.

Real inputs (``../shared/data``): the open-field-mouse DeepLabCut project
(also without ``config.yaml``, its ``.csv`` table alone, its ``.h5`` table),
the mirror-mouse Lightning Pose folder (17 points, no ``config.yaml``), the
MPII sample json and the AI Challenger sample (COCO layout there, written
back in AI Challenger's own layout). For SLEAP (frames embedded, image files
referenced), DeepPoseKit, CVAT (COCO json, XML), Label Studio and Labelme,
the real labels of both mouse projects are written as the tool exports
them, on the real images (:mod:`tool_exports`).

Each conversion runs as ``customkpt convert FORMAT SRC OUT --no-split``
(its argument parsing, the converter, ``write_splits``); the written
``all.json`` is compared with the source image by image, images a converter
writes with the source images pixel by pixel; the DeepLabCut conversions go
back to a DeepLabCut table (``coco_to_dlc``), compared cell by cell. A format
whose library is missing is a row saying so. From the repository root::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_converters.py
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from customkpt.cli.convert import converter_kwargs, split_spec  # noqa: E402
from customkpt.cli.convert import parse_args as convert_args  # noqa: E402
from customkpt.converters import (CONVERTERS, ConversionError, coco_to_dlc,  # noqa: E402
                                  write_splits)
from customkpt.converters.dlc_tables import h5_available  # noqa: E402
from tool_exports import (Labels, load_labels, read_dlc_csv, write_cvat_coco,  # noqa: E402
                          write_cvat_xml, write_dpk, write_labelme, write_labelstudio, write_slp)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / '..' / 'shared' / 'data'
OPENFIELD = DATA / 'openfield-mouse'
MIRROR = DATA / 'mirror-mouse'
SAMPLES = DATA / 'mmpose-samples'


@dataclass
class Truth:
    """Source instances by image name, (K, 2) each (NaN: unlabelled); names
    None compares by position; ``by_frame``: ``frame_idx`` -> image name;
    ``paths``: image name -> source image (for pixel checks)."""
    names: list[str] | None
    images: dict[str, list[np.ndarray]]
    by_frame: list[str] | None = None
    paths: dict[str, Path] = field(default_factory=dict)


@dataclass
class Case:
    """One table row: the source, the command's arguments, the truth."""
    source: str
    argv: list[str]
    truth: Truth
    frames_in: int
    skip: str = ''
    round_trip: Path | None = None


def truth_of(labels: Labels, rows_only: bool = False) -> Truth:
    """Every image's instance (none when unlabelled); ``rows_only``: only
    images with a table row, as a DeepLabCut conversion sees them."""
    images = {f.path.name: [f.xy] if f.labelled() else [] for f in labels.frames
              if f.xy is not None or not rows_only}
    return Truth(labels.names, images, [f.path.name for f in labels.frames],
                 {f.path.name: f.path for f in labels.frames})


def write_aic(sample: Path, path: Path) -> Truth:
    """The COCO-layout AI Challenger sample in AI Challenger's own layout
    (visibility 1 visible, 2 occluded, 3 not labelled; boxes x1, y1, x2, y2)."""
    coco = json.loads(sample.read_text())
    records, truth = [], {}
    for img in coco['images']:
        anns = sorted((a for a in coco['annotations'] if a['image_id'] == img['id']),
                      key=lambda a: a['id'])
        kps = [np.asarray(a['keypoints'], np.float64).reshape(-1, 3) for a in anns]
        records.append({'image_id': Path(img['file_name']).stem, 'keypoint_annotations': {
            f'human{n}': [v for x, y, c in k for v in (x, y, {2: 1, 1: 2, 0: 3}[int(c)])]
            for n, k in enumerate(kps, 1)}, 'human_annotations': {
            f'human{n}': [x, y, x + w, y + h] for n, (x, y, w, h) in
            enumerate((a['bbox'] for a in anns), 1)}})
        truth[img['file_name']] = [np.where(k[:, 2:] > 0, k[:, :2], np.nan) for k in kps]
    path.write_text(json.dumps(records))
    return Truth(None, truth)


def mpii_truth(ann_file: Path) -> Truth:
    """MPII's labelled joints, its 1-based pixels made 0-based (as documented)."""
    truth: dict[str, list[np.ndarray]] = {}
    for rec in json.loads(ann_file.read_text()):
        vis = np.asarray(rec['joints_vis'])[:, None] > 0
        truth.setdefault(rec['image'], []).append(
            np.where(vis, np.asarray(rec['joints'], np.float64) - 1.0, np.nan))
    return Truth(None, truth)


# -------------------------------------------------------------------- cases
def tool_cases(tmp: Path, labels: Labels) -> list[Case]:
    """The labelling-tool exports of one project's labels, written into ``tmp``."""
    name, images, keypoints = labels.name, str(labels.frames[0].path.parent), ','.join(labels.names)
    truth, n, cases = truth_of(labels), len(labels.frames), []
    for what, path, writer, opts in (
            ('Labelme folder', tmp / f'labelme-{name}', write_labelme, ['--keypoints', keypoints]),
            ('Label Studio JSON', tmp / f'ls-{name}.json', write_labelstudio,
             ['--images-dir', images, '--keypoints', keypoints]),
            ('CVAT COCO Keypoints 1.0', tmp / f'cvat-{name}/annotations/person_keypoints_default'
             '.json', write_cvat_coco, ['--images-dir', images]),
            ('CVAT for images 1.1 XML', tmp / f'cvat-{name}.xml', write_cvat_xml,
             ['--images-dir', images])):
        writer(labels, path)
        fmt = writer.__name__.split('_')[1]
        cases.append(Case(f'{name}: {what}', [fmt, str(path), *opts], truth, n))
    skip = '' if importlib.util.find_spec('h5py') else 'h5py not installed (pip install h5py)'
    pkg, slp, dpk, csv_ = (tmp / f'{name}{s}' for s in ('.pkg.slp', '.slp', '-dpk.h5', '.csv'))
    if not skip:
        write_slp(labels, pkg, embed=True)
        write_slp(labels, slp, embed=False)
        write_dpk(labels, dpk, csv_)
    return cases + [
        Case(f'{name}: SLEAP .pkg.slp (frames embedded)', ['sleap', str(pkg)], truth, n, skip),
        Case(f'{name}: SLEAP .slp (image files referenced)', ['sleap', str(slp)], truth, n, skip),
        Case(f'{name}: DeepPoseKit .h5 + skeleton csv',
             ['deepposekit', str(dpk), '--skeleton', str(csv_)], truth, n, skip)]


def build_cases(tmp: Path, openfield: Labels, mirror: Labels) -> list[Case]:
    """Every row: DeepLabCut inputs, tool exports, AI Challenger, MPII."""
    real = OPENFIELD / 'labeled-data' / 'm4s1'
    bare = tmp / 'openfield-no-config' / 'labeled-data'
    bare.mkdir(parents=True)
    (bare / 'm4s1').symlink_to(real.resolve(), target_is_directory=True)
    t_of, n_of, t_lp = truth_of(openfield, True), len(openfield.frames), truth_of(mirror, True)
    no_h5 = '' if h5_available() else 'the .h5 table needs pandas and PyTables (not installed)'
    cases = [
        Case('openfield-mouse DLC project', ['dlc', str(OPENFIELD)], t_of, n_of,
             round_trip=real / 'CollectedData_Pranav.csv'),
        Case('openfield-mouse, no config.yaml', ['dlc', str(bare.parent)], t_of, n_of),
        Case('openfield-mouse, its .csv table alone, no config.yaml',
             ['dlc', str(bare / 'm4s1' / 'CollectedData_Pranav.csv')], t_of, n_of),
        Case('openfield-mouse, its .h5 table', ['dlc', str(real / 'CollectedData_Pranav.h5')],
             t_of, n_of, no_h5),
        Case('mirror-mouse Lightning Pose (no config.yaml)', ['dlc', str(MIRROR)], t_lp,
             len(t_lp.images), round_trip=MIRROR / 'CollectedData.csv')]
    cases += tool_cases(tmp, openfield) + tool_cases(tmp, mirror)
    aic = write_aic(SAMPLES / 'aic' / 'test_aic.json', tmp / 'aic.json')
    mpii_file = SAMPLES / 'mpii' / 'test_mpii.json'
    mpii = mpii_truth(mpii_file)
    return cases + [
        Case('AI Challenger sample (AIC layout)', ['aic', str(tmp / 'aic.json'), '--images-dir',
                                                   str(SAMPLES / 'aic')], aic, len(aic.images)),
        Case('MPII sample json', ['mpii', str(mpii_file)], mpii, len(mpii.images))]


# ---------------------------------------------------------------- measuring
def _key(img: dict, truth: Truth) -> str:
    if truth.by_frame and 'frame_idx' in img:
        return truth.by_frame[img['frame_idx']]
    return Path(img['file_name']).name


def compare(coco: dict, root: Path, truth: Truth) -> dict:
    """Source vs output points, image by image and instance by instance (in
    order): lost, extra, max |dx, dy|; images written unlike the source."""
    names = coco['categories'][0]['keypoints']
    order = ([names.index(n) for n in truth.names] if truth.names and
             sorted(truth.names) == sorted(names) else list(range(len(names))))
    anns: dict[int, list[np.ndarray]] = {}
    for a in sorted(coco['annotations'], key=lambda a: a['id']):
        anns.setdefault(a['image_id'], []).append(np.reshape(a['keypoints'], (-1, 3))[order])
    out = {'instances_in': sum(map(len, truth.images.values())), 'matched': 0, 'max_abs_px': 0.0,
           'points_in': sum(int(np.isfinite(x).all(-1).sum()) for v in truth.images.values()
                            for x in v), 'images_not_in_source': 0, 'pixels_differ': 0,
           'points_out': sum(int((k[:, 2] > 0).sum()) for v in anns.values() for k in v)}
    for img in coco['images']:
        key, path = _key(img, truth), root / img['file_name']
        if key not in truth.images:
            out['images_not_in_source'] += 1
            continue
        for src, kp in zip(truth.images[key], anns.get(img['id'], [])):
            both = np.isfinite(src).all(-1) & (kp[:, 2] > 0)
            out['matched'] += int(both.sum())
            out['max_abs_px'] = max(out['max_abs_px'], float(np.abs(src[both] - kp[both, :2])
                                                             .max(initial=0.0)))
        if key in truth.paths and path.resolve() != truth.paths[key].resolve():
            a, b = (cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in (path, truth.paths[key]))
            out['pixels_differ'] += not np.array_equal(np.squeeze(a), np.squeeze(b))
    return {**out, 'lost': out['points_in'] - out['matched'],
            'extra': out['points_out'] - out['matched']}


def run_case(case: Case, out: Path) -> dict:
    """Convert as the command line does; counts, points and time of one case."""
    row = {'source': case.source, 'frames_in': case.frames_in,
           'command': 'customkpt convert ' + ' '.join(case.argv) + ' OUT --no-split'}
    if case.skip:
        return {**row, 'refused': f'skipped: {case.skip}'}
    args = convert_args([*case.argv, str(out), '--no-split', '--no-progress'])
    start = time.perf_counter()
    try:
        result = CONVERTERS[args.format](args.src, **converter_kwargs(args))
        write_splits(result, out, split_spec(args))
    except ConversionError as exc:
        return {**row, 'refused': f'refused: {exc}'}
    row['ms'] = (time.perf_counter() - start) * 1000
    coco, st = json.loads((out / 'all.json').read_text()), result.stats
    cat = coco['categories'][0]
    row.update(images_out=len(coco['images']), anns_out=len(coco['annotations']),
               skipped=dict(st.skipped), notes=st.summary_notes(), points_outside=st.points_outside,
               links=len(cat.get('skeleton') or []), flip_pairs=len(cat.get('flip_pairs') or []),
               image_files_missing=sum(not (result.image_root / i['file_name']).is_file()
                                       for i in coco['images']),
               **compare(coco, result.image_root, case.truth))
    if case.round_trip:
        row['round_trip'] = round_trip(coco, case.round_trip, out / 'dlc')
    return row


def round_trip(coco: dict, table: Path, out: Path) -> dict:
    """The converted labels back as a DeepLabCut table, cell by cell against the source."""
    export = coco_to_dlc(coco, out, scorer='roundtrip')
    names0, index0, xy0 = read_dlc_csv(table)
    names1, index1, xy1 = read_dlc_csv(export.path)
    rows = dict(zip(index1, xy1))
    back = np.stack([rows.get(i, np.full_like(xy0[0], np.nan)) for i in index0])
    return {'rows_in': len(index0), 'rows_out': len(index1), 'points_out': export.points,
            'points_in': int(np.isfinite(xy0[..., 0]).sum()),
            'same_cells': names0 == names1 and np.array_equal(np.isnan(xy0), np.isnan(back)),
            'exact': np.array_equal(xy0, back, equal_nan=True),
            'max_abs_px': float(np.nanmax(np.abs(xy0 - back)))}


# ------------------------------------------------------------------ report
def markdown(rows: list[dict]) -> str:
    lines = ['| # | source | frames in | inst in | images out | anns out | skipped (reason: n) | '
             'pts in | pts out | lost / extra | max abs dxy px | links / flip | ms |',
             '|' + '---|' * 13]
    for i, r in enumerate(rows, 1):
        if 'refused' in r:
            lines.append(f'| {i} | {r["source"]} | {r["frames_in"]} | {r["refused"]} |' + ' |' * 10)
            continue
        skipped = ', '.join(f'{k}: {v}' for k, v in r['skipped'].items()) or '-'
        lines.append(f'| {i} | {r["source"]} | {r["frames_in"]} | {r["instances_in"]} | '
                     f'{r["images_out"]} | {r["anns_out"]} | {skipped} | {r["points_in"]} | '
                     f'{r["points_out"]} | {r["lost"]} / {r["extra"]} | {r["max_abs_px"]:.2g} | '
                     f'{r["links"]} / {r["flip_pairs"]} | {r["ms"]:.0f} |')
    lines += ['', 'Commands (OUT a temporary folder) and the converters\' notes:']
    for i, r in enumerate(rows, 1):
        extra = [f'{r[k]} {k.replace("_", " ")}' for k in ('image_files_missing', 'pixels_differ',
                                                           'images_not_in_source',
                                                           'points_outside') if r.get(k)]
        lines.append(f'{i}. `{r["command"]}`' + ''.join(f'; {n}' for n in r.get('notes', [])
                                                        + extra))
    lines += ['', '| round trip: COCO -> DeepLabCut table | rows in / out | points in / out | '
              'same labelled cells | exact | max abs diff px |', '|---|---|---|---|---|---|']
    lines += [f'| {r["source"]} | {t["rows_in"]} / {t["rows_out"]} | {t["points_in"]} / '
              f'{t["points_out"]} | {t["same_cells"]} | {t["exact"]} | {t["max_abs_px"]:.2g} |'
              for r in rows if (t := r.get('round_trip'))]
    return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work-dir', default='work_dirs/bench_converters',
                   help='where results.md and results.json are written')
    work = Path(p.parse_args(argv).work_dir)
    if missing := [str(d) for d in (OPENFIELD, MIRROR, SAMPLES) if not d.is_dir()]:
        print(f'skipped: the real data is not there: {missing}')
        return 0
    labelled = OPENFIELD / 'labeled-data' / 'm4s1'
    openfield = load_labels('openfield', labelled / 'CollectedData_Pranav.csv', OPENFIELD,
                            labelled)
    mirror = load_labels('mirror', MIRROR / 'CollectedData.csv', MIRROR, MIRROR / 'labeled-data')
    with tempfile.TemporaryDirectory(prefix='bench_converters_') as tmp:
        cases = build_cases(Path(tmp), openfield, mirror)
        rows = [run_case(c, Path(tmp) / 'out' / f'{i:02d}') for i, c in enumerate(cases)]
    text = markdown(rows)
    work.mkdir(parents=True, exist_ok=True)
    (work / 'results.md').write_text(text)
    (work / 'results.json').write_text(json.dumps({'rows': rows}, indent=1, default=str))
    print(text + f'\nwritten: {work / "results.md"}, {work / "results.json"}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
