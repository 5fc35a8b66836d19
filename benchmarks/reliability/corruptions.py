"""The seeded corruptions of :mod:`fuzz_annotations`: valid bases and what breaks them.

:func:`make_case` writes one corrupted case into a folder: an annotation file
(``ann.json``) derived from a valid base, and an image folder (the base's,
linked, or a damaged copy). Corruptions work on three levels: the parsed
json (fields, ids, categories, layout), the file's text (truncated, empty,
non-UTF-8, deeply nested, NUL bytes, huge number literals) and the images.
"""
from __future__ import annotations

import copy
import json
import math
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

NAMES5 = ['head', 'left_hand', 'right_hand', 'left_foot', 'right_foot']
HUGE_INT, HUGE_EXP = '"__HUGE_INT__"', '"__HUGE_EXP__"'
BAD_VALUES: list[Any] = [
    None, '0', '1', '', [], [1, 2], {}, {'a': 1}, True, False, -1, 0, 0.5, 1e30,
    math.nan, math.inf, -math.inf, HUGE_INT.strip('"'), HUGE_EXP.strip('"'), 'x\u0000y',
    [[[[1]]]], 'keypoints']
ANN_FIELDS = ('id', 'image_id', 'category_id', 'keypoints', 'bbox', 'area', 'iscrowd',
              'num_keypoints')
IMAGE_FIELDS = ('id', 'file_name', 'width', 'height')
CATEGORY_FIELDS = ('id', 'keypoints', 'skeleton', 'name')


@dataclass
class Case:
    """One corrupted file and how to load it."""

    ann_file: str
    img_dir: str
    kinds: list[str] = field(default_factory=list)
    metainfo: Any = None
    kwargs: dict = field(default_factory=dict)


# ------------------------------------------------------------------ bases
_BASES: dict[str, tuple[dict, Path]] = {}


def synthetic_base(root: Path) -> tuple[dict, Path]:
    """A valid K=5 file over 12 small PNGs named 1.png .. 12.png."""
    img_dir = root / 'synthetic_img'
    img_dir.mkdir(parents=True, exist_ok=True)
    rs = np.random.RandomState(0)
    images, anns = [], []
    for i in range(1, 13):
        cv2.imwrite(str(img_dir / f'{i}.png'), rs.randint(0, 255, (48, 64, 3), np.uint8))
        images.append({'id': i, 'file_name': f'{i}.png', 'width': 64, 'height': 48})
        for j in range(2):
            pts = []
            for _ in NAMES5:
                pts += [float(rs.uniform(4, 60)), float(rs.uniform(4, 44)), int(rs.choice([0, 2]))]
            pts[2] = pts[5] = 2
            anns.append({'id': 100 * i + j, 'image_id': i, 'category_id': 1, 'iscrowd': 0,
                         'keypoints': pts, 'num_keypoints': sum(v > 0 for v in pts[2::3]),
                         'bbox': [2.0, 2.0, 40.0, 30.0], 'area': 1200.0})
    data = {'images': images, 'annotations': anns,
            'categories': [{'id': 1, 'name': 'thing', 'keypoints': NAMES5,
                            'skeleton': [[1, 2], [1, 3]]}]}
    return data, img_dir


def bases(root: Path, coco_sample: Path) -> list[tuple[dict, Path]]:
    """The valid starting points (cached per root)."""
    key = str(root)
    if key not in _BASES:
        _BASES[key] = synthetic_base(root)
    out = [_BASES[key]]
    sample = coco_sample / 'test_coco.json'
    if sample.is_file():
        out.append((json.loads(sample.read_text()), coco_sample))
    return out


# ------------------------------------------------------ json-level changes
def _pick(rng: random.Random, items: list) -> Any:
    return items[rng.randrange(len(items))] if items else None


def _records(data: dict, key: str) -> list[dict]:
    return [r for r in data.get(key, []) if isinstance(r, dict)]


def _ann(data: dict, rng: random.Random) -> dict:
    return _pick(rng, _records(data, 'annotations')) or {}


def _img(data: dict, rng: random.Random) -> dict:
    return _pick(rng, _records(data, 'images')) or {}


def ann_field_delete(data: dict, rng: random.Random) -> None:
    _ann(data, rng).pop(rng.choice(ANN_FIELDS), None)


def ann_field_bad(data: dict, rng: random.Random) -> None:
    _ann(data, rng)[rng.choice(ANN_FIELDS)] = copy.deepcopy(rng.choice(BAD_VALUES))


def keypoint_value_bad(data: dict, rng: random.Random) -> None:
    kp = _ann(data, rng).get('keypoints')
    if isinstance(kp, list) and kp:
        kp[rng.randrange(len(kp))] = copy.deepcopy(rng.choice(BAD_VALUES))


def keypoints_wrong_length(data: dict, rng: random.Random) -> None:
    a = _ann(data, rng)
    kp = a.get('keypoints')
    if isinstance(kp, list):
        a['keypoints'] = kp[:-rng.choice([1, 2, 3])] if rng.random() < 0.5 else kp + [1.0] * 3


def visibility_bad(data: dict, rng: random.Random) -> None:
    kp = _ann(data, rng).get('keypoints')
    if isinstance(kp, list) and len(kp) >= 3:
        kp[3 * rng.randrange(len(kp) // 3) + 2] = rng.choice([3, -1, 0.5, '2', None, 7])


def bbox_bad(data: dict, rng: random.Random) -> None:
    a = _ann(data, rng)
    a['bbox'] = rng.choice([[1, 2, 3], [1, 2, 3, 4, 5], [5, 5, -3, 4], [5, 5, 0, 0],
                            [5000, 5000, 10, 10], [math.nan, 1, 2, 3], [1, 1, math.inf, 2],
                            [1, 1, HUGE_INT.strip('"'), 2], 'box', [[1, 2], [3, 4]]])


def ids_broken(data: dict, rng: random.Random) -> None:
    anns = _records(data, 'annotations')
    if len(anns) < 2:
        return
    a, b = rng.sample(anns, 2)
    choice = rng.randrange(4)
    if choice == 0:
        a['id'] = b.get('id')                   # duplicate annotation id
    elif choice == 1:
        a['image_id'] = 987654                  # dangling image id
    elif choice == 2:
        for x in rng.sample(anns, min(3, len(anns))):
            x['category_id'] = 7                # unknown category
    else:
        a['category_id'] = str(a.get('category_id'))   # typo: a string


def iscrowd_string(data: dict, rng: random.Random) -> None:
    _ann(data, rng)['iscrowd'] = rng.choice(['0', '1', 'no', 0.0, 2, None])


def image_field(data: dict, rng: random.Random) -> None:
    img = _img(data, rng)
    if rng.random() < 0.3:
        img.pop(rng.choice(IMAGE_FIELDS), None)
    else:
        img[rng.choice(IMAGE_FIELDS)] = copy.deepcopy(rng.choice(BAD_VALUES))


def image_ids_broken(data: dict, rng: random.Random) -> None:
    if len(_records(data, 'images')) < 2:
        return
    a, b = rng.sample(_records(data, 'images'), 2)
    choice = rng.randrange(3)
    if choice == 0:
        a['id'] = b.get('id')
    elif choice == 1:
        a['file_name'] = 'does_not_exist.png'
    else:
        a['file_name'] = str(a.get('file_name')) + '\u0000'


def categories_broken(data: dict, rng: random.Random) -> None:
    cats = data.get('categories')
    choice = rng.randrange(6)
    if choice == 0:
        data.pop('categories', None)
    elif choice == 1:
        data['categories'] = []
    elif choice == 2 and isinstance(cats, list) and cats:
        cats[0]['keypoints'] = list(cats[0].get('keypoints', []))[:-1]
    elif choice == 3 and isinstance(cats, list) and cats:
        cats[0][rng.choice(CATEGORY_FIELDS)] = copy.deepcopy(rng.choice(BAD_VALUES))
    elif choice == 4 and isinstance(cats, list) and cats:
        cats.append(dict(copy.deepcopy(cats[0]), id=2, name='other'))
    elif isinstance(cats, list) and cats:
        cats[0]['id'] = 5


def layout_broken(data: dict, rng: random.Random) -> Any:
    choice = rng.randrange(7)
    if choice == 0:
        return data.get('annotations', [])      # a list at the top
    if choice == 1:
        data.pop(rng.choice(['images', 'annotations']), None)
    elif choice == 2:
        data['annotations'] = []
    elif choice == 3:
        data['images'] = []
    elif choice == 4:
        data['annotations'] = {'0': data.get('annotations')}
    elif choice == 5:
        return rng.choice([0, 'text', None, 1.5])
    else:
        anns = data.get('annotations')
        if isinstance(anns, list) and anns:
            anns[rng.randrange(len(anns))] = rng.choice([5, None, [1, 2], 'ann'])
    return data


JSON_CHANGES: list[Callable[[dict, random.Random], Any]] = [
    ann_field_delete, ann_field_bad, keypoint_value_bad, keypoints_wrong_length, visibility_bad,
    bbox_bad, ids_broken, iscrowd_string, image_field, image_ids_broken, categories_broken,
    layout_broken]


# ------------------------------------------------------ text-level changes
def text_change(text: str, rng: random.Random) -> tuple[str, bytes | None]:
    """(kind, the file's bytes; None: no file at all)."""
    raw = text.encode('utf-8')
    choice = rng.randrange(8)
    if choice == 0:
        return 'truncated', raw[:rng.randrange(1, max(2, len(raw)))]
    if choice == 1:
        return 'empty file', rng.choice([b'', b'   \n'])
    if choice == 2:
        at = rng.randrange(len(raw))
        return 'non-UTF-8', raw[:at] + b'\xff\xfe\xc3(' + raw[at:]
    if choice == 3:
        depth = rng.choice([5000, 100000])
        return 'deeply nested', b'{"images": ' + b'[' * depth + b']' * depth + b'}'
    if choice == 4:
        at = rng.randrange(len(raw))
        return 'NUL bytes', raw[:at] + b'\x00\x00' + raw[at:]
    if choice == 5:
        return 'BOM', b'\xef\xbb\xbf' + raw
    if choice == 6:
        return 'missing file', None
    return 'huge literal', raw.replace(b', "area":', b', "area": 1' + b'0' * 400 + b', "x":', 1)


# ----------------------------------------------------- image-level changes
def _link_images(src: Path, dst: Path) -> list[Path]:
    dst.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted(src.iterdir()):
        if p.suffix.lower() in ('.png', '.jpg', '.jpeg'):
            os.symlink(p.resolve(), dst / p.name)
            out.append(dst / p.name)
    return out


def image_change(case_dir: Path, src: Path, rng: random.Random) -> tuple[str, Path]:
    """(kind, the image folder to use)."""
    choice = rng.randrange(6)
    if choice == 0:
        return 'wrong image folder', case_dir / 'no_such_folder'
    dst = case_dir / 'img'
    files = _link_images(src, dst)
    if choice == 1:
        for p in rng.sample(files, max(1, len(files) // 3)):
            p.unlink()
        return 'missing images', dst
    if choice == 2:
        p = rng.choice(files)
        p.unlink()
        p.write_bytes(b'not an image')
        return 'corrupt image', dst
    if choice == 3:
        p = rng.choice(files)
        p.unlink()
        p.write_bytes(b'')
        return 'empty image', dst
    if choice == 4:
        for p in files:
            p.unlink()
            p.write_text('hello')
        return 'folder of text files', dst
    (case_dir / 'img_is_a_file').write_text('x')
    return 'image folder is a file', case_dir / 'img_is_a_file'


# ------------------------------------------------------------------- case
def make_case(case_dir: Path, rng: random.Random, coco_sample: Path) -> Case:
    """Write one corrupted case into ``case_dir``."""
    case_dir.mkdir(parents=True, exist_ok=True)
    data, img_src = rng.choice(bases(case_dir.parent, coco_sample))
    data = copy.deepcopy(data)
    kinds: list[str] = []
    level = rng.random()
    out: Any = data
    if level < 0.7 or level >= 0.9:
        for change in rng.sample(JSON_CHANGES, rng.choice([1, 1, 2, 3])):
            out = change(out, rng) if change is layout_broken else (change(out, rng) or out)
            kinds.append(change.__name__)
            if not isinstance(out, dict):
                break
    text = json.dumps(out).replace(HUGE_INT, '1' + '0' * 400).replace(HUGE_EXP, '1e400')
    raw: bytes | None = text.encode('utf-8')
    if 0.7 <= level < 0.8:
        kind, raw = text_change(text, rng)
        kinds.append(kind)
    img_dir = img_src
    if level >= 0.8:
        kind, img_dir = image_change(case_dir, img_src, rng)
        kinds.append(kind)
    ann_file = case_dir / 'ann.json'
    if raw is not None:
        ann_file.write_bytes(raw)
    return Case(ann_file=str(ann_file), img_dir=str(img_dir), kinds=kinds)
