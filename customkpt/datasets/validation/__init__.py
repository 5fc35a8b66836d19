"""Up-front validation of a whole annotation file.

A dataset checks its annotation file once, before it builds any sample, and
collects every problem into one :class:`ValidationReport` instead of stopping
at the first. Each :class:`Problem` names the file, the image id, the
annotation id and the field, so a user can fix the file (or the converter that
wrote it) in one pass.

Errors make the dataset raise :class:`DatasetValidationError` (whose message
is the formatted report), unless the dataset was built with
``skip_invalid=True``: then the records listed in
:attr:`ValidationReport.bad_records` are dropped and one log line counts them.
Warnings never stop anything.

What is checked (COCO layout, :func:`validate_coco`):

* the file can be read at all (:func:`read_json`: a missing, empty,
  truncated, non-UTF-8 or too deeply nested file is one fatal problem);
* the file has ``images`` and ``annotations`` lists (fatal otherwise: no
  record can be skipped to repair it);
* images: an id (an integer or a string), no duplicate ids, a ``file_name``
  (a string without NUL characters), positive ``width`` / ``height`` where
  given; the image folder exists (one fatal problem otherwise), and the image
  file of every image that has an annotation of the keypoint category exists
  and is not empty, and with ``check_images='decode'`` also decodes (slow:
  reads every image); missing files are listed in natural order of names;
* annotations: an integer ``category_id``; those of another category are
  left out and counted in :attr:`ValidationReport.skipped` (a category that
  ``categories`` does not list is also a warning);
* annotations of the keypoint category: an id, no duplicate ids, a known
  ``image_id``, ``keypoints`` of length ``3 * K``, no NaN, inf or numbers too
  large for a float in keypoints / bbox / area, ``iscrowd`` 0 or 1, an integer
  ``num_keypoints``, visibility in {0, 1, 2}, boxes with ``w > 0`` and
  ``h > 0`` that overlap the image; a missing box is fine when it can be
  derived from at least two distinct labelled points (otherwise an error,
  except for an instance with no labelled point during training, which the
  dataset skips anyway);
* warnings: labelled points outside the image, ``num_keypoints`` that
  disagrees with the labelled points.

:func:`validate_detections` checks a COCO detection-result list (the
``bbox_file`` of top-down evaluation) and :func:`validate_mpii` the MPII json
layout.
"""
from .coco import validate_coco
from .detections import validate_detections
from .files import file_error, read_json
from .images import natural_key
from .mpii import validate_mpii
from .records import check_image_file
from .report import (ERROR, MAX_ERROR_LINES, VISIBILITY_VALUES, WARNING, DatasetValidationError,
                     Problem, ValidationReport, format_counts)

__all__ = [
    'ERROR', 'WARNING', 'VISIBILITY_VALUES', 'MAX_ERROR_LINES', 'Problem', 'ValidationReport',
    'DatasetValidationError', 'format_counts', 'check_image_file', 'validate_coco',
    'validate_detections', 'validate_mpii', 'read_json', 'file_error', 'natural_key',
]
