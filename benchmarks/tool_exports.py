"""Real keypoint labels written as labelling tools export them, for
``bench_converters.py``: Labelme (a json per image, ``imageData`` embedded),
Label Studio's JSON export, CVAT's COCO Keypoints 1.0 json and CVAT for
images 1.1 XML (two decimals, as CVAT writes), SLEAP ``.slp`` / ``.pkg.slp``
(format 1.2) and DeepPoseKit's ``.h5`` + skeleton csv.

A point the labeller left out is a missing node (NaN, not visible) in SLEAP,
unannotated in DeepPoseKit, ``outside="1"`` in CVAT XML, ``v = 0`` in COCO, no
result / shape in Label Studio / Labelme; an image without labels is a frame
without an instance (an unannotated task, an empty ``<image>``, a labelled
frame without instances, a json without shapes). The tools' skeleton and
mirror tables are :data:`LINKS` / :data:`SYMMETRY`. The writers use only
numpy, OpenCV, json and (SLEAP, DeepPoseKit) h5py, not customkpt.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import cv2
import numpy as np

#: Body links (parent, child: a tree, DeepPoseKit's parent column) and mirror pairs.
LINKS = {'openfield': [('snout', 'leftear'), ('snout', 'rightear'), ('snout', 'tailbase')],
         'mirror': [(f'{a}_{v}', f'{b}_{v}') for v in ('top', 'bot') for a, b in (
             ('nose', 'paw2LF'), ('nose', 'paw3RF'), ('nose', 'tailBase'),
             ('tailBase', 'tailMid'), ('tailBase', 'paw1LH'), ('tailBase', 'paw4RH'))]}
SYMMETRY = {'openfield': [('leftear', 'rightear')],
            'mirror': [(f'{a}_{v}', f'{b}_{v}') for v in ('top', 'bot')
                       for a, b in (('paw1LH', 'paw4RH'), ('paw2LF', 'paw3RF'))]}


@dataclass
class Frame:
    """An image, its (w, h), its (K, 2) labels (NaN: left out; None: no row)."""
    path: Path
    size: tuple[int, int]
    xy: np.ndarray | None

    def labelled(self) -> list[int]:
        return [] if self.xy is None else np.flatnonzero(np.isfinite(self.xy).all(1)).tolist()


@dataclass
class Labels:
    """The real labels of one project: ``name`` keys LINKS / SYMMETRY."""
    name: str
    names: list[str]
    frames: list[Frame]


def read_dlc_csv(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Body parts, row index, (F, K, 2) coordinates (NaN: empty) of a
    single-animal DeepLabCut table."""
    with open(path, newline='') as fh:
        rows = list(csv.reader(fh))
    assert rows[2][1:] == ['x', 'y'] * (len(rows[2]) // 2), f'{path}: not x,y columns'
    xy = np.array([[float(c) if c else np.nan for c in r[1:]] for r in rows[3:]], np.float64)
    return rows[1][1::2], [r[0] for r in rows[3:]], xy.reshape(len(rows) - 3, -1, 2)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's header."""
    with open(path, 'rb') as fh:
        head = fh.read(24)
    assert head[:8] == b'\x89PNG\r\n\x1a\n', f'{path}: not a PNG'
    return struct.unpack('>II', head[16:24])


def load_labels(name: str, table: Path, root: Path, image_dir: Path) -> Labels:
    """The table's labels on every PNG of ``image_dir`` (row index relative to ``root``)."""
    names, index, xy = read_dlc_csv(table)
    rows = {(root / i).resolve(): v for i, v in zip(index, xy)}
    return Labels(name, names, [Frame(p, png_size(p), rows.get(p.resolve()))
                                for p in sorted(image_dir.glob('*.png'))])


# ------------------------------------------------------------------ writers
def write_labelme(labels: Labels, dst: Path) -> None:
    """One Labelme 5 json per image (image data embedded, path relative)."""
    dst.mkdir(parents=True)
    for f in labels.frames:
        shapes = [{'label': labels.names[k], 'points': [f.xy[k].tolist()], 'group_id': None,
                   'description': '', 'shape_type': 'point', 'flags': {}, 'mask': None}
                  for k in f.labelled()]
        (dst / f'{f.path.stem}.json').write_text(json.dumps({
            'version': '5.4.1', 'flags': {}, 'shapes': shapes,
            'imagePath': os.path.relpath(f.path.resolve(), dst.resolve()),
            'imageData': base64.b64encode(f.path.read_bytes()).decode(),
            'imageHeight': f.size[1], 'imageWidth': f.size[0]}, indent=2))


def write_labelstudio(labels: Labels, path: Path) -> None:
    """Label Studio's JSON export of a keypoint project on uploaded images;
    images not labelled yet are tasks without annotations."""
    tasks = []
    for t, f in enumerate(labels.frames, 1):
        (w, h), pts = f.size, f.labelled()
        result = [{'original_width': w, 'original_height': h, 'image_rotation': 0,
                   'value': {'x': f.xy[k, 0] / w * 100, 'y': f.xy[k, 1] / h * 100,
                             'width': 0.4, 'keypointlabels': [labels.names[k]]},
                   'id': f'{t:05d}{k:05d}', 'from_name': 'kp', 'to_name': 'image',
                   'type': 'keypointlabels', 'origin': 'manual'} for k in pts]
        anns = [{'id': t, 'completed_by': 1, 'result': result, 'was_cancelled': False,
                 'ground_truth': False, 'lead_time': 12.5, 'task': t}] if pts else []
        upload = hashlib.md5(f.path.name.encode()).hexdigest()[:8] + '-' + f.path.name
        tasks.append({'id': t, 'annotations': anns, 'drafts': [], 'predictions': [],
                      'data': {'image': f'/data/upload/1/{upload}'}, 'meta': {},
                      'inner_id': t, 'total_annotations': len(anns), 'project': 1})
    path.write_text(json.dumps(tasks, indent=1))


def write_cvat_coco(labels: Labels, path: Path) -> None:
    """CVAT's COCO Keypoints 1.0 export: every task image, tight boxes, v 0 = 0, 0, 0."""
    index = labels.names.index
    images, anns = [], []
    for i, f in enumerate(labels.frames, 1):
        images.append({'id': i, 'width': f.size[0], 'height': f.size[1], 'license': 0,
                       'file_name': f.path.name, 'flickr_url': '', 'coco_url': '',
                       'date_captured': 0})
        if pts := f.labelled():
            lo, hi = f.xy[pts].min(0), f.xy[pts].max(0)
            kp = [v for k in range(len(f.xy)) for v in
                  ([*f.xy[k].tolist(), 2] if k in pts else [0, 0, 0])]
            anns.append({'id': len(anns) + 1, 'image_id': i, 'category_id': 1, 'iscrowd': 0,
                         'segmentation': [], 'area': float(np.prod(hi - lo)),
                         'bbox': [*lo.tolist(), *(hi - lo).tolist()], 'keypoints': kp,
                         'attributes': {'occluded': False}, 'num_keypoints': len(pts)})
    cat = {'id': 1, 'name': 'mouse', 'supercategory': '', 'keypoints': labels.names,
           'skeleton': [[index(a) + 1, index(b) + 1] for a, b in LINKS[labels.name]]}
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({'licenses': [{'name': '', 'id': 0, 'url': ''}],
                                'info': {'contributor': '', 'version': ''}, 'categories': [cat],
                                'images': images, 'annotations': anns}))


def write_cvat_xml(labels: Labels, path: Path) -> None:
    """CVAT for images 1.1: one skeleton label, its points as sub-labels."""
    node = {n: i + 1 for i, n in enumerate(labels.names)}
    svg = ''.join(f'<line data-type="edge" data-node-from="{node[a]}" data-node-to="{node[b]}">'
                  '</line>' for a, b in LINKS[labels.name]) + ''.join(
        f'<circle r="0.75" data-type="element node" data-node-id="{i}" data-label-name="{n}">'
        '</circle>' for n, i in node.items())
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta>'
           f'<task><id>1</id><name>{labels.name}</name><size>{len(labels.frames)}</size><labels>'
           f'<label><name>mouse</name><type>skeleton</type><svg>{escape(svg)}</svg></label>']
    out += [f'<label><name>{n}</name><type>points</type><parent>mouse</parent></label>'
            for n in labels.names] + ['</labels></task></meta>']
    for i, f in enumerate(labels.frames):
        out.append(f'<image id="{i}" name={quoteattr(f.path.name)} width="{f.size[0]}" '
                   f'height="{f.size[1]}">')
        if pts := f.labelled():
            out.append('<skeleton label="mouse" source="manual" z_order="0">')
            out += [f'<points label="{n}" source="manual" outside="{int(k not in pts)}" '
                    'occluded="0" points="{:.2f},{:.2f}"></points>'.format(
                        *(f.xy[k] if k in pts else (0, 0))) for k, n in enumerate(labels.names)]
            out.append('</skeleton>')
        out.append('</image>')
    path.write_text('\n'.join(out + ['</annotations>']))


def _sleap_skeleton(labels: Labels) -> dict:
    """The skeleton graph as jsonpickle writes it (an edge type in full once, then py/id)."""
    seen: list[int] = []
    links = []
    for a, b, kind in [(a, b, 1) for a, b in LINKS[labels.name]] + [
            e for a, b in SYMMETRY[labels.name] for e in ((a, b, 2), (b, a, 2))]:
        ref = ({'py/id': seen.index(kind) + 1} if kind in seen else
               {'py/reduce': [{'py/type': 'sleap.skeleton.EdgeType'}, {'py/tuple': [kind]}]})
        seen += [] if kind in seen else [kind]
        links.append({'edge_insert_idx': len(links), 'key': 0, 'type': ref,
                      'source': labels.names.index(a), 'target': labels.names.index(b)})
    return {'directed': True, 'graph': {'name': 'Skeleton-0', 'num_edges_inserted': len(links)},
            'links': links, 'multigraph': True, 'nodes': [{'id': i} for i in
                                                          range(len(labels.names))]}


_SLEAP_DTYPES = {
    'frames': 'frame_id u8 video u4 frame_idx u8 instance_id_start u8 instance_id_end u8',
    'instances': 'instance_id i8 instance_type u1 frame_id u8 skeleton u4 track i4 '
                 'from_predicted i8 score f4 point_id_start u8 point_id_end u8 tracking_score f4',
    'points': 'x f8 y f8 visible ? complete ?',
    'pred_points': 'x f8 y f8 visible ? complete ? score f8'}


def write_slp(labels: Labels, path: Path, embed: bool) -> None:
    """SLEAP format 1.2: an image-sequence video of every image, a labelled
    frame each (no instance where unlabelled); ``embed``: a ``.pkg.slp`` with
    the labelled frames' PNGs inside."""
    import h5py
    rows: dict[str, list] = {'frames': [], 'instances': [], 'points': [], 'pred_points': []}
    for i, f in enumerate(labels.frames):
        first, start = len(rows['instances']), len(rows['points'])
        if f.labelled():
            rows['points'] += [(x, y, np.isfinite(x), np.isfinite(x)) for x, y in f.xy]
            rows['instances'].append((first, 0, i, 0, -1, -1, 0.0, start, len(rows['points']), 0))
        rows['frames'].append((i, 0, i, first, len(rows['instances'])))
    grey = cv2.imread(str(labels.frames[0].path), cv2.IMREAD_UNCHANGED).ndim == 2
    video = {'filenames': [str(f.path.resolve()) for f in labels.frames], 'grayscale': grey,
             'height_': labels.frames[0].size[1], 'width_': labels.frames[0].size[0],
             'channels_': 1 if grey else 3}
    meta = {'version': '2.0.0', 'skeletons': [_sleap_skeleton(labels)], 'tracks': [],
            'nodes': [{'name': n, 'weight': 1.0} for n in labels.names], 'videos': [],
            'suggestions': [], 'negative_anchors': {}, 'provenance': {}}
    with h5py.File(path, 'w') as fh:
        fh.create_group('metadata').attrs.update({'format_id': 1.2, 'json': np.bytes_(
            json.dumps(meta, separators=(',', ':')))})
        for name, spec in _SLEAP_DTYPES.items():
            words = spec.split()
            dtype = np.dtype(list(zip(words[::2], words[1::2])))
            fh.create_dataset(name, data=np.array(rows[name], dtype), maxshape=(None,))
        backend = video
        if embed:
            stored = [i for i, f in enumerate(labels.frames) if f.labelled()]
            ds = fh.create_dataset('video0/video', (len(stored),), dtype=h5py.vlen_dtype('int8'))
            for row, i in enumerate(stored):
                ds[row] = np.frombuffer(labels.frames[i].path.read_bytes(), 'int8')
            ds.attrs['format'] = 'png'
            fh['video0/frame_numbers'] = np.array(stored)
            fh.create_group('video0/source_video').attrs['json'] = json.dumps({'backend': video})
            backend = {'filename': '.', 'dataset': 'video0/video', 'input_format':
                       'channels_last', 'convert_range': False}
        fh.create_dataset('videos_json', data=np.array([json.dumps({'backend': backend})],
                                                       dtype='S'), maxshape=(None,))


def write_dpk(labels: Labels, path: Path, skeleton: Path) -> None:
    """DeepPoseKit's annotation file (every image as OpenCV reads it, resizable
    datasets as DeepPoseKit creates them) and skeleton csv."""
    import h5py
    parent = {b: a for a, b in LINKS[labels.name]}
    swap = {a: b for p in SYMMETRY[labels.name] for a, b in (p, p[::-1])}
    skeleton.write_text('name,parent,swap\n' + ''.join(
        f'{n},{parent.get(n, "")},{swap.get(n, "")}\n' for n in labels.names))
    images = np.stack([cv2.imread(str(f.path), cv2.IMREAD_UNCHANGED) for f in labels.frames])
    images = images[..., None] if images.ndim == 3 else images
    ann = np.stack([np.full((len(labels.names), 2), np.nan) if f.xy is None else f.xy
                    for f in labels.frames])
    annotated = np.isfinite(ann).all(-1)
    ann[~annotated] = 0.0
    ids = {n: i for i, n in enumerate(labels.names)}
    table = [[ids.get(parent.get(n), -1), ids.get(swap.get(n), -1)] for n in labels.names]
    with h5py.File(path, 'w') as fh:
        for name, data in (('images', images), ('annotations', ann), ('annotated', annotated)):
            fh.create_dataset(name, data=data, maxshape=(None,) + data.shape[1:])
        fh.create_dataset('skeleton', data=np.array(table, np.int32))
