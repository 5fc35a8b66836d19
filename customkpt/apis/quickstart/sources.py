"""What ``--data`` points at: a COCO-keypoint file or folder, a DeepLabCut
project (or one of its label tables) or a Labelme folder, told apart by what
is on disk."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from customkpt.errors import UserError

__all__ = ['DataSource', 'recognise', 'LOOKED_FOR']

#: What a folder is searched for, in this order (said when nothing matches).
LOOKED_FOR = (
    'DeepLabCut / Lightning Pose labels (config.yaml, labeled-data/ or CollectedData*.csv '
    'tables)',
    'a COCO-keypoint train file, here or in annotations/: train.json or the one '
    '*train*.json (with val.json or the one *val*.json beside it, if any)',
    'Labelme files (*.json with a "shapes" list, in any subfolder)',
)
_TABLE_SUFFIXES = ('.csv', '.h5')


@dataclass(frozen=True)
class DataSource:
    """A recognised dataset.

    Attributes:
        kind: ``coco``, ``dlc`` or ``labelme``: the COCO-keypoint files as
            they are, or the key of :data:`customkpt.converters.CONVERTERS`
            that converts them.
        path: the COCO train file; what the converter reads (a DeepLabCut
            project folder, ``config.yaml`` or table, a Labelme folder).
        name: a short name for the default work dir.
        val_path: the COCO val file, when the data has one.
        given: what ``--data`` said.
        coco: the COCO train file as read while recognising it (so that
            the run reads each file once); None for data to convert.
        val_coco: the same for the val file.
    """

    kind: str
    path: Path
    name: str
    val_path: Path | None = None
    given: Path | None = None
    coco: dict | None = field(default=None, repr=False, compare=False)
    val_coco: dict | None = field(default=None, repr=False, compare=False)


def _dlc_name(path: Path) -> str:
    """The project's name: ``PROJECT`` of ``PROJECT/labeled-data/FOLDER/table.csv``,
    ``PROJECT/config.yaml`` and ``PROJECT/CollectedData.csv``."""
    folder = path if path.is_dir() else path.parent
    if folder.parent.name == 'labeled-data':
        folder = folder.parent.parent
    return folder.resolve().name


def _coco_name(train: Path) -> str:
    """The train file's stem, or its folder's name for a generic stem
    (``train.json``, ``annotations/person_keypoints_train2017.json``)."""
    stem, folder = train.stem, train.resolve().parent
    if 'train' in stem.lower() or stem.lower() == 'all':
        stem = folder.parent.name if folder.name == 'annotations' else folder.name
    return stem


def _load_json(path: Path) -> object:
    try:
        with open(path, encoding='utf-8') as fh:
            return json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f'--data {path}: cannot read it as json: {exc}') from None


def _is_coco(data: object) -> bool:
    return isinstance(data, dict) and all(k in data for k in ('images', 'annotations',
                                                              'categories'))


def _coco_file(path: Path) -> dict:
    """The content of ``path`` when it is a COCO-keypoint json, else a
    UserError saying what it is."""
    data = _load_json(path)
    if isinstance(data, dict) and isinstance(data.get('shapes'), list):
        raise UserError(f'--data {path}: this is one Labelme file; give the folder that '
                        'holds the Labelme files')
    if not _is_coco(data):
        keys = sorted(data)[:8] if isinstance(data, dict) else type(data).__name__
        raise UserError(f'--data {path}: not a COCO-keypoint file (it needs "images", '
                        f'"annotations" and "categories"; found {keys})')
    return data


def _recognise_file(path: Path) -> DataSource:
    if path.name == 'config.yaml' or path.suffix.lower() in _TABLE_SUFFIXES:
        return DataSource('dlc', path, _dlc_name(path), given=path)
    if path.suffix.lower() == '.json':
        return DataSource('coco', path, _coco_name(path), given=path, coco=_coco_file(path))
    raise UserError(f'--data {path}: not a file this command reads (a COCO-keypoint .json, '
                    'a DeepLabCut config.yaml or a .csv / .h5 label table), nor a '
                    'folder')


def _one_match(folder: Path, exact: str, word: str, other: Path | None = None) -> Path | None:
    """``folder/exact``, else the one ``*word*.json`` of the folder that is
    not ``other``, else None."""
    if (folder / exact).is_file():
        return folder / exact
    found = sorted(p for p in folder.glob(f'*{word}*.json') if p.is_file() and p != other)
    return found[0] if len(found) == 1 else None


def _coco_pair(folder: Path) -> DataSource | None:
    """The train (and val) file of a COCO folder, if it is one."""
    for where in (folder, folder / 'annotations'):
        if not where.is_dir():
            continue
        train = _one_match(where, 'train.json', 'train')
        coco = _load_json(train) if train is not None else None
        if _is_coco(coco):
            val = _one_match(where, 'val.json', 'val', other=train)
            return DataSource('coco', train, _coco_name(train), val, given=folder, coco=coco,
                              val_coco=_coco_file(val) if val is not None else None)
    return None


def _has_labelme_files(folder: Path, limit: int = 200) -> bool:
    """Whether one of the first ``limit`` json files under ``folder`` is a Labelme file."""
    for i, path in enumerate(sorted(folder.rglob('*.json'))):
        if i >= limit:
            break
        try:
            data = json.loads(path.read_text(encoding='utf-8'))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get('shapes'), list):
            return True
    return False


def _what_is_there(folder: Path) -> str:
    entries = sorted(p.name + ('/' if p.is_dir() else '') for p in folder.iterdir())
    shown = ', '.join(entries[:10]) + (f', ... ({len(entries)} entries)'
                                       if len(entries) > 10 else '')
    return shown or 'nothing (the folder is empty)'


def _is_dlc_folder(folder: Path) -> bool:
    """A DeepLabCut project (``config.yaml`` or ``labeled-data/``) or a folder
    holding ``CollectedData*`` tables itself (Lightning Pose)."""
    return ((folder / 'config.yaml').is_file() or (folder / 'labeled-data').is_dir()
            or any(p.is_file() for suffix in _TABLE_SUFFIXES
                   for p in folder.glob(f'CollectedData*{suffix}')))


def _recognise_folder(folder: Path) -> DataSource:
    if _is_dlc_folder(folder):
        return DataSource('dlc', folder, _dlc_name(folder), given=folder)
    pair = _coco_pair(folder)
    if pair is not None:
        return pair
    if _has_labelme_files(folder):
        return DataSource('labelme', folder, folder.resolve().name, given=folder)
    looked = '; '.join(f'({i}) {what}' for i, what in enumerate(LOOKED_FOR, 1))
    raise UserError(f'--data {folder}: cannot tell what data this is. Looked for {looked}. '
                    f'Found: {_what_is_there(folder)}. Other formats: convert them first '
                    '(customkpt convert FORMAT SRC OUT), then give OUT')


def recognise(path: str | Path) -> DataSource:
    """What ``--data path`` is.

    A file: a COCO-keypoint json (its train split; no val), a DeepLabCut
    ``config.yaml`` or label table (read by the DeepLabCut converter as it
    reads them). A folder, searched for :data:`LOOKED_FOR` in that order.

    Raises:
        UserError: a missing path, or one that is none of these; the message
            lists what was looked for and what was found.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f'--data {path}: no such file or folder')
    return _recognise_file(path) if path.is_file() else _recognise_folder(path)
