"""The base of customkpt's top-down keypoint datasets.

:class:`BaseKeypointDataset` is an mmengine ``BaseDataset`` whose ``metainfo``
is a :class:`~customkpt.meta.KeypointMeta` (``meta.to_dict()``, plain lists)
and whose annotation file is validated as a whole before any sample is built
(see :mod:`customkpt.datasets.validation`). Subclasses read one file format;
the base class owns the order of the steps:

1. ``_read_annotations``: parse the file(s);
2. ``_resolve_meta``: the keypoint definition (file category, defaults and
   the config's ``metainfo``);
3. ``_validate``: one :class:`ValidationReport` for the whole file;
4. raise :class:`DatasetValidationError` on errors, or with
   ``skip_invalid=True`` drop the bad records and log one line;
5. ``_parse``: one sample dict per instance, with the keys listed in
   ``docs/architecture.md``; valid records left out on purpose (crowd,
   another category, ...) are counted in ``report.skipped``;
6. raise :class:`DatasetValidationError` when no sample is left.

An annotation file that cannot be read (missing, empty, truncated, not
UTF-8, ...) raises :class:`DatasetValidationError` too, naming the file.
"""
from __future__ import annotations

import copy
import logging
from abc import abstractmethod
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from ..meta import KeypointMeta, KeypointMetaError, derive_flip_pairs, unpaired_sided_names
from ..registry import SCOPE
from .validation import WARNING, DatasetValidationError, ValidationReport, format_counts

# What ``metainfo`` accepts (typing.Union: the package supports Python 3.9).
MetaInfo = Optional[Union[Mapping[str, Any], str, Path]]

_IMAGE_CHECKS = (True, False, 'decode')


class BaseKeypointDataset(BaseDataset):
    """Common machinery of the COCO and MPII keypoint datasets.

    Args:
        ann_file: the annotation file, relative to ``data_root`` unless
            absolute.
        data_root: the dataset folder.
        data_prefix: ``dict(img=folder)``, the image folder relative to
            ``data_root``.
        metainfo: the keypoint definition: a dict of
            :class:`~customkpt.meta.KeypointMeta` config keys, a path to a
            metainfo file (MMPose ``dataset_info`` style or our keys), or
            ``None`` to use what the annotation file (or the format's default)
            defines. Config keys override the file's category.
        pipeline: transforms applied to each sample dict.
        test_mode: evaluation use (keeps instances without labelled points).
        lazy_init: defer reading the annotation file until first use.
        max_refetch: how often ``__getitem__`` retries another sample when
            the pipeline returns ``None`` (training only).
        skip_invalid: drop records with validation errors (logged as one
            line) instead of raising :class:`DatasetValidationError`.
        check_images: ``True`` checks that each used image file exists and is
            not empty, ``'decode'`` also decodes each one (slow), ``False``
            skips the image checks.
        serialize_data: keep samples as one pickled buffer (shared by
            dataloader workers without copy-on-read growth).
        indices: keep only these sample indices (or the first ``n``) after
            loading; for quick experiments.

    Attributes:
        meta: the resolved :class:`KeypointMeta` (``None`` until loaded).
        report: the :class:`ValidationReport` of the last load.
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Mapping[str, str] | None = None,
                 metainfo: MetaInfo = None,
                 pipeline: Sequence[dict | Callable] = (),
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 1000,
                 skip_invalid: bool = False,
                 check_images: bool | str = True,
                 serialize_data: bool = True,
                 indices: int | Sequence[int] | None = None) -> None:
        if check_images not in _IMAGE_CHECKS:
            raise ValueError(f'check_images must be True, False or "decode", got {check_images!r}')
        if isinstance(metainfo, Path):
            metainfo = str(metainfo)
        self.meta_cfg: Mapping[str, Any] | str | None = copy.deepcopy(
            dict(metainfo) if isinstance(metainfo, Mapping) else metainfo)
        self.meta: KeypointMeta | None = None
        self.report: ValidationReport | None = None
        self.skip_invalid = bool(skip_invalid)
        self.check_images = check_images
        self._raw_cache: Any = None
        # The pipeline's bare type names are customkpt's whatever the current
        # default scope (a config of another mmengine project).
        with DefaultScope.overwrite_default_scope(SCOPE):
            super().__init__(
                ann_file=ann_file, metainfo=None, data_root=data_root,
                data_prefix=dict(data_prefix) if data_prefix is not None else dict(img=''),
                indices=indices, serialize_data=serialize_data, pipeline=list(pipeline),
                test_mode=test_mode, lazy_init=lazy_init, max_refetch=max_refetch)

    # ------------------------------------------------------------- metainfo
    @property
    def metainfo(self) -> dict:
        """``KeypointMeta.to_dict()`` of the definition in use (a copy).

        With ``lazy_init=True`` the first access reads the annotation file
        (the definition may come from its category)."""
        if self.meta is None:
            self._raw_cache = self._read_annotations()
            self._set_meta(self._resolve_meta(self._raw_cache))
        return copy.deepcopy(self._metainfo)

    def _set_meta(self, meta: KeypointMeta) -> None:
        self.meta = meta
        self._metainfo = meta.to_dict()

    @property
    def img_dir(self) -> str:
        """The folder image names are relative to (``data_root`` joined)."""
        return self.data_prefix.get('img', '')

    # ---------------------------------------------------------------- load
    def load_data_list(self) -> list[dict]:
        """Read, resolve the definition, validate, then build the samples."""
        raw = self._raw_cache if self._raw_cache is not None else self._read_annotations()
        self._raw_cache = None
        if self.meta is None:  # not yet resolved by an early `metainfo` access
            self._set_meta(self._resolve_meta(raw))
        self._log_flip_pairs()
        report = self._validate(raw)
        self.report = report
        self._apply_report(report)
        data_list = self._parse(raw, report.bad_records if self.skip_invalid else set())
        if not data_list:
            self._raise_empty(report)
        return data_list

    def _raise_empty(self, report: ValidationReport) -> None:
        """No sample is left: one error that says why each record went."""
        dropped = len(report.bad_records)
        reasons = [f'{dropped} dropped for errors (skip_invalid=True)'] if dropped else []
        reasons += [f'{len(ids)} skipped: {why}' for why, ids in report.skipped.items()]
        report.error(None, None, 'annotations',
                     f'no usable instance in {report.num_records} records'
                     + (f' ({"; ".join(reasons)})' if reasons else ''))
        report.fatal = True
        raise DatasetValidationError(report, hint='A dataset needs at least one instance.')

    def _log_flip_pairs(self) -> None:
        """Say which flip pairs were derived from the names (the definition
        stated none), and warn about points with a left/right word but no
        partner: a horizontal flip keeps their labels, so it would train a
        left point on the mirrored right one."""
        assert self.meta is not None
        names = self.meta.keypoint_names
        if self.meta.flip_pairs_derived:
            pairs = ', '.join(f'{names[a]}<->{names[b]}' for a, b in self.meta.flip_pairs)
            print_log(f'{type(self).__name__}: flip pairs of {self.ann_file} derived from its '
                      f'keypoint names: {pairs} (set metainfo flip_pairs to change them, or '
                      'flip_from_names=False for none)', logger='current', level=logging.INFO)
        opted_out = isinstance(self.meta_cfg, Mapping) and \
            self.meta_cfg.get('flip_from_names') is False
        unpaired = unpaired_sided_names(names, self.meta.flip_pairs)
        if opted_out or not unpaired:
            return
        try:
            suggested = [] if self.meta.flip_pairs else derive_flip_pairs(names)
        except KeypointMetaError:
            suggested = []
        if suggested:
            message = (f'the keypoint definition of {self.ann_file} has no flip pairs, but its '
                       f'names suggest {suggested}; a horizontal flip will not swap left and '
                       'right. Set metainfo flip_pairs or flip_from_names=True.')
        else:
            message = (f'keypoints {unpaired} of {self.ann_file} have a left/right word but no '
                       'flip partner; a horizontal flip keeps their labels (a left point is '
                       'then trained on the mirrored, right-hand one). Give their pairs in '
                       'metainfo flip_pairs.')
        print_log(f'{type(self).__name__}: {message}', logger='current', level=logging.WARNING)

    def _apply_report(self, report: ValidationReport) -> None:
        """Raise on errors (unless skipping them), log the outcome."""
        if report.errors and (report.fatal or not self.skip_invalid):
            hint = ('Fix the file, or set skip_invalid=True to drop the bad records'
                    if not report.fatal else 'These errors concern the whole file.')
            raise DatasetValidationError(report, hint=hint)
        if report.errors:
            per_field = format_counts(report.counts())
            print_log(
                f'{type(self).__name__}: skipped {len(report.bad_records)} of '
                f'{report.num_records} records of {report.file} with errors ({per_field} '
                'problems); `customkpt check` lists them',
                logger='current', level=logging.WARNING)
        if report.warnings:
            per_field = format_counts(report.counts(WARNING))
            print_log(f'{type(self).__name__}: {len(report.warnings)} warnings in '
                      f'{report.file} ({per_field}); first: {report.warnings[0]}',
                      logger='current', level=logging.WARNING)

    def _common_fields(self) -> dict[str, Any]:
        """Keys every sample carries, from the definition (a fresh dict)."""
        assert self.meta is not None
        return self.meta.sample_fields()

    # --------------------------------------------------- format-specific
    @abstractmethod
    def _read_annotations(self) -> Any:
        """Parse the annotation file(s) into whatever ``_parse`` reads."""

    @abstractmethod
    def _resolve_meta(self, raw: Any) -> KeypointMeta:
        """The keypoint definition: file/format default overridden by
        ``self.meta_cfg``."""

    @abstractmethod
    def _validate(self, raw: Any) -> ValidationReport:
        """Check the whole file; ``bad_records`` are record positions."""

    @abstractmethod
    def _parse(self, raw: Any, skip: set[int]) -> list[dict]:
        """One sample dict per instance, leaving out records in ``skip``."""
