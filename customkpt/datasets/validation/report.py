"""The validation report: problems, their formatting and the dataset error."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

__all__ = ['ERROR', 'WARNING', 'VISIBILITY_VALUES', 'MAX_ERROR_LINES', 'Problem',
           'ValidationReport', 'DatasetValidationError', 'format_counts', 'MAX_SKIPPED_IDS']

ERROR = 'error'
WARNING = 'warning'

#: Values allowed in the visibility slot of a COCO keypoint triple.
VISIBILITY_VALUES = (0, 1, 2)

#: How many report lines a :class:`DatasetValidationError` message shows.
MAX_ERROR_LINES = 50

#: How many annotation ids a line about skipped annotations lists.
MAX_SKIPPED_IDS = 10


@dataclass(frozen=True)
class Problem:
    """One problem found in an annotation file.

    Attributes:
        file: the annotation (or detection) file.
        image_id: the image the problem belongs to, ``None`` when it concerns
            the whole file.
        ann_id: the annotation id (the record position for files without
            ids), ``None`` for image-level and file-level problems.
        field: the offending field (``keypoints``, ``bbox``, ``file_name``,
            ...); ``file`` for problems with the file as a whole.
        message: what is wrong, in words.
        severity: ``'error'`` or ``'warning'``.
    """

    file: str
    image_id: Any
    ann_id: Any
    field: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        image = '-' if self.image_id is None else self.image_id
        ann = '-' if self.ann_id is None else self.ann_id
        return (f'{self.severity}: {self.file}: image {image}, annotation {ann}, '
                f'field {self.field!r}: {self.message}')


@dataclass
class ValidationReport:
    """Every problem of one annotation file.

    Attributes:
        file: the annotation file.
        num_records: how many records (annotations, detections or MPII
            entries) the file holds.
        errors: problems that stop a dataset unless ``skip_invalid=True``.
        warnings: problems that are only reported.
        bad_records: positions (in the file's record list) of the records
            dropped under ``skip_invalid=True``: the records with an error
            plus every record of an image with an error.
        fatal: True when an error concerns the whole file, so that skipping
            records cannot repair it.
        skipped: annotation ids the dataset leaves out on purpose (another
            category, crowd, no labelled point, ...), by reason: valid records
            that are still counted and reported.
    """

    file: str
    num_records: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    bad_records: set[int] = field(default_factory=set)
    fatal: bool = False
    skipped: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    def error(self, image_id: Any, ann_id: Any, field_name: str, message: str,
              file: str | None = None) -> None:
        """Add an error."""
        self.errors.append(Problem(file or self.file, image_id, ann_id, field_name, message))

    def warn(self, image_id: Any, ann_id: Any, field_name: str, message: str,
             file: str | None = None) -> None:
        """Add a warning."""
        self.warnings.append(
            Problem(file or self.file, image_id, ann_id, field_name, message, WARNING))

    def objects(self, records: Any, file_what: str, record_what: str
                ) -> Iterator[tuple[int, Mapping[str, Any]]]:
        """The records of a file that is one json list of objects, as
        (position, record), while it is iterated: anything but a list is a
        fatal error (no records); a record that is not an object is an error
        and a bad record.

        Args:
            records: the parsed json.
            file_what: the file, for the message ('an MPII annotation file').
            record_what: the field named for a record that is not an object.
        """
        if not isinstance(records, list):
            self.error(None, None, 'file', f'{file_what} must hold a json list')
            self.fatal = True
            return
        self.num_records = len(records)
        for pos, rec in enumerate(records):
            if isinstance(rec, Mapping):
                yield pos, rec
            else:
                self.error(None, pos, record_what, 'not an object')
                self.bad_records.add(pos)

    def skip(self, reason: str, ann_id: Any) -> None:
        """Count a valid record that is left out on purpose, with its reason."""
        self.skipped.setdefault(reason, []).append(ann_id)

    def skip_lines(self, with_file: bool = True) -> list[str]:
        """One line per reason: ``'3 annotations skipped: crowd (file X, ann
        ids [4, 7, 9])'``, at most :data:`MAX_SKIPPED_IDS` ids each."""
        lines = []
        for reason, ids in self.skipped.items():
            shown = ', '.join(map(str, ids[:MAX_SKIPPED_IDS]))
            more = f', ... {len(ids) - MAX_SKIPPED_IDS} more' if len(ids) > MAX_SKIPPED_IDS else ''
            where = f'file {self.file}, ' if with_file else ''
            plural = 's' if len(ids) != 1 else ''
            lines.append(f'{len(ids)} annotation{plural} skipped: {reason} '
                         f'({where}ann ids [{shown}{more}])')
        return lines

    def merge(self, other: 'ValidationReport') -> None:
        """Append another report's problems (e.g. of a detection file)."""
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)
        self.fatal = self.fatal or other.fatal
        for reason, ids in other.skipped.items():
            self.skipped.setdefault(reason, []).extend(ids)

    def counts(self, severity: str = ERROR) -> dict[str, int]:
        """Number of problems per field, most frequent first."""
        problems = self.errors if severity == ERROR else self.warnings
        return dict(Counter(p.field for p in problems).most_common())

    def summary(self) -> str:
        """One line: the numbers of errors and warnings per field."""
        def part(severity: str, items: list[Problem]) -> str:
            if not items:
                return f'0 {severity}s'
            plural = 's' if len(items) != 1 else ''
            return f'{len(items)} {severity}{plural} ({format_counts(self.counts(severity))})'
        return (f'{self.file}: {part(ERROR, self.errors)}, '
                f'{part(WARNING, self.warnings)} in {self.num_records} records')

    def format(self, max_lines: int | None = None,
               more_hint: str = 'run `customkpt check` for the full list') -> str:
        """The summary line, one line per problem (errors first), then one
        line per reason annotations were skipped.

        Args:
            max_lines: show at most this many problem lines and say how many
                more there are; ``None`` shows all.
            more_hint: what the line about the problems not shown suggests.
        """
        problems = self.errors + self.warnings
        shown = problems if max_lines is None else problems[:max_lines]
        lines = [self.summary()] + [f'  {p}' for p in shown]
        if len(shown) < len(problems):
            lines.append(f'  ... and {len(problems) - len(shown)} more problems ({more_hint})')
        lines.extend(f'  {line}' for line in self.skip_lines())
        return '\n'.join(lines)


class DatasetValidationError(ValueError):
    """An annotation file has errors; the message is the formatted report.

    Attributes:
        report: the full :class:`ValidationReport`.
    """

    def __init__(self, report: ValidationReport, hint: str = '') -> None:
        self.report = report
        text = report.format(max_lines=MAX_ERROR_LINES)
        if hint:
            text = f'{text}\n{hint}'
        super().__init__(text)


def format_counts(counts: Mapping[str, int]) -> str:
    """``{'bbox': 2, 'keypoints': 1}`` -> ``'bbox: 2, keypoints: 1'``."""
    return ', '.join(f'{k}: {v}' for k, v in counts.items())
