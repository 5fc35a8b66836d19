"""New labels merged into a training COCO-keypoint json.

:func:`merge_labels` takes the training dataset and the new one (a COCO
dict, e.g. what :func:`~customkpt.converters.convert_labelme` or
:func:`~customkpt.converters.convert_dlc` made of corrected frames) and
returns the merged dict, leaving both inputs untouched:

* the keypoint definition must be the same: one keypoint category on each
  side with the same keypoint names in the same order (a
  :class:`ConversionError` names the first difference). The training
  category is kept (its id, name, skeleton and flip pairs); every new
  annotation gets its ``category_id``;
* new images and annotations are renumbered after the training file's
  largest ids (in the new file's order), so no id is used twice, and each
  new annotation follows its image;
* an image whose ``file_name`` the training file already has is a
  duplicate: ``on_duplicate='refuse'`` (the default) raises an error naming
  it; ``'replace'`` drops the training image and its annotations and adds
  the new one (with a new id: ids are never reused);
* the counts are checked: merged images = training - replaced + new, and
  the same for annotations.

``file_name`` entries are relative to an image root; :func:`rebase_file_names`
rewrites the new ones to be relative to the training file's root (``..``
where needed). Writing the result to a *new* file is the caller's job
(``customkpt merge-labels`` refuses to overwrite the training json).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .category import single_keypoint_category
from .common import ConversionError, file_name_key, to_posix_relpath

__all__ = ['DUPLICATE_POLICIES', 'MergeResult', 'merge_labels',
           'rebase_file_names']

#: What to do with a new image whose file_name the training file has.
DUPLICATE_POLICIES = ('refuse', 'replace')


@dataclass
class MergeResult:
    """The merged dataset and what went into it.

    Attributes:
        coco: the merged COCO dict.
        added_images: new images added.
        added_annotations: new annotations added.
        replaced_images: training images replaced by new ones (file names).
        removed_annotations: training annotations dropped with them.
    """

    coco: dict
    added_images: int = 0
    added_annotations: int = 0
    replaced_images: list[str] = field(default_factory=list)
    removed_annotations: int = 0

    def summary(self) -> str:
        """One line for the user."""
        line = (f'{len(self.coco["images"])} images, {len(self.coco["annotations"])} '
                f'annotations ({self.added_images} images, {self.added_annotations} '
                f'annotations added')
        if self.replaced_images:
            line += (f'; {len(self.replaced_images)} images replaced, '
                     f'{self.removed_annotations} of their old annotations removed')
        return line + ')'


def _check_same_keypoints(old: dict, new: dict, train_src: str, new_src: str) -> None:
    a = [str(n) for n in old['keypoints']]
    b = [str(n) for n in new['keypoints']]
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            raise ConversionError(f'{new_src}: keypoint {i} is {y!r} but {x!r} in {train_src} '
                                  f'(the keypoint definitions must be the same, in the same '
                                  f'order)')
    if len(a) != len(b):
        longer, src = (a, train_src) if len(a) > len(b) else (b, new_src)
        raise ConversionError(f'{new_src} has {len(b)} keypoints, {train_src} {len(a)}: '
                              f'keypoint {min(len(a), len(b))} {longer[min(len(a), len(b))]!r} '
                              f'is only in {src}')


def _records(coco: dict, key: str, source: str) -> list[dict]:
    items = coco.get(key)
    if not isinstance(items, list):
        raise ConversionError(f'{source}: field "{key}" must be a list')
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get('id'), int):
            raise ConversionError(f'{source}: {key}[{i}]: needs an integer "id"')
    return items


def _duplicates(train_imgs: list[dict], new_imgs: list[dict], on_duplicate: str,
                new_src: str, train_src: str) -> set[int]:
    """Ids of training images that new images replace (error under 'refuse')."""
    by_name = {file_name_key(img.get('file_name')): img['id'] for img in train_imgs}
    seen: dict[str, int] = {}
    replaced: set[int] = set()
    for i, img in enumerate(new_imgs):
        key = file_name_key(img.get('file_name'))
        if not img.get('file_name'):
            raise ConversionError(f'{new_src}: images[{i}] (id {img["id"]}): no "file_name"')
        if key in seen:
            raise ConversionError(f'{new_src}: images[{i}]: file_name {key!r} appears twice '
                                  f'(also images[{seen[key]}])')
        seen[key] = i
        if key in by_name:
            if on_duplicate == 'refuse':
                count = sum(k in by_name for k in (file_name_key(m.get('file_name'))
                                                   for m in new_imgs))
                raise ConversionError(
                    f'{new_src}: images[{i}]: file_name {key!r} is already in {train_src} '
                    f'({count} such image(s)); merge with on_duplicate=\'replace\' '
                    '(--on-duplicate replace) to replace them')
            replaced.add(by_name[key])
    return replaced


def merge_labels(train: dict, new: dict, on_duplicate: str = 'refuse',
                 train_source: str = 'training file', new_source: str = 'new labels'
                 ) -> MergeResult:
    """Merge the images and annotations of ``new`` into ``train``.

    Args:
        train: the training COCO dict (not modified).
        new: the new labels as a COCO dict (not modified), ``file_name``
            already relative to the training image root
            (:func:`rebase_file_names`).
        on_duplicate: 'refuse' or 'replace' (see the module doc).
        train_source: names ``train`` in messages (its path).
        new_source: names ``new`` in messages.

    Raises:
        ConversionError: different keypoint definitions, a duplicate under
            'refuse', records without ids, an annotation of an unknown image
            or another category, or counts that do not add up.
    """
    if on_duplicate not in DUPLICATE_POLICIES:
        raise ConversionError(f'on_duplicate must be one of {DUPLICATE_POLICIES}, '
                              f'got {on_duplicate!r}')
    cat = single_keypoint_category(train, train_source)
    new_cat = single_keypoint_category(new, new_source)
    _check_same_keypoints(cat, new_cat, train_source, new_source)
    t_imgs, t_anns = _records(train, 'images', train_source), _records(train, 'annotations',
                                                                       train_source)
    n_imgs, n_anns = _records(new, 'images', new_source), _records(new, 'annotations',
                                                                   new_source)
    replaced = _duplicates(t_imgs, n_imgs, on_duplicate, new_source, train_source)
    next_img = max((img['id'] for img in t_imgs), default=0) + 1
    next_ann = max((ann['id'] for ann in t_anns), default=0) + 1
    img_map = {img['id']: next_img + i for i, img in enumerate(n_imgs)}
    merged = copy.deepcopy({k: v for k, v in train.items() if k not in ('images', 'annotations')})
    merged['images'] = [copy.deepcopy(m) for m in t_imgs if m['id'] not in replaced]
    merged['annotations'] = [copy.deepcopy(a) for a in t_anns if a.get('image_id') not in replaced]
    merged['images'] += [dict(copy.deepcopy(m), id=img_map[m['id']]) for m in n_imgs]
    for i, ann in enumerate(n_anns):
        where = f'{new_source}: annotations[{i}] (id {ann["id"]})'
        if ann.get('image_id') not in img_map:
            raise ConversionError(f'{where}: field "image_id": image {ann.get("image_id")!r} is '
                                  'not in "images"')
        if ann.get('category_id', new_cat.get('id')) != new_cat.get('id'):
            raise ConversionError(f'{where}: field "category_id": {ann.get("category_id")!r} is '
                                  f'not the keypoint category {new_cat.get("id")!r}')
        merged['annotations'].append(dict(copy.deepcopy(ann), id=next_ann + i,
                                          image_id=img_map[ann['image_id']],
                                          category_id=cat['id']))
    removed = len(t_anns) - (len(merged['annotations']) - len(n_anns))
    _check_counts(merged, t_imgs, t_anns, n_imgs, n_anns)
    names = [str(m.get('file_name')) for m in t_imgs if m['id'] in replaced]
    return MergeResult(merged, len(n_imgs), len(n_anns), names, removed)


def _check_counts(merged: dict, t_imgs: list, t_anns: list, n_imgs: list, n_anns: list
                  ) -> None:
    """Every record is accounted for, counted from the file names alone:
    images = training - those whose file_name the new labels have + new, the
    same for their annotations; ids unique."""
    new_names = {file_name_key(m.get('file_name')) for m in n_imgs}
    gone = {m['id'] for m in t_imgs if file_name_key(m.get('file_name')) in new_names}
    expected = (len(t_imgs) - len(gone) + len(n_imgs),
                sum(a.get('image_id') not in gone for a in t_anns) + len(n_anns))
    problems = [f'{len(merged[key])} {key} instead of {want}'
                for key, want in zip(('images', 'annotations'), expected)
                if len(merged[key]) != want]
    for key in ('images', 'annotations'):
        ids = [r['id'] for r in merged[key]]
        if len(set(ids)) != len(ids):
            problems.append(f'duplicate {key} ids')
    if problems:
        raise ConversionError('merge: records do not add up: ' + '; '.join(problems))


def rebase_file_names(coco: dict, from_root: str | Path, to_root: str | Path) -> dict:
    """A copy of ``coco`` whose image ``file_name`` entries, relative to
    ``from_root``, are made relative to ``to_root`` (forward slashes; ``..``
    when the images lie outside it)."""
    out = copy.deepcopy(coco)
    for img in out.get('images') or []:
        if isinstance(img, dict) and img.get('file_name'):
            name = str(img['file_name']).replace('\\', '/')
            img['file_name'] = to_posix_relpath(Path(from_root) / name, to_root)
    return out
