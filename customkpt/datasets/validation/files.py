"""Reading an annotation file: every way it can be unreadable becomes one clear error.

A missing, empty, truncated, non-UTF-8 or too deeply nested json file raises
:class:`~.report.DatasetValidationError` whose report holds one fatal
problem (field ``'file'``) that names the file and what is wrong with it,
instead of the json module's or the operating system's exception.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .report import DatasetValidationError, ValidationReport

__all__ = ['read_json', 'file_error']


def file_error(path: str, message: str, field_name: str = 'file') -> DatasetValidationError:
    """The error of a file that cannot be used as a whole."""
    report = ValidationReport(file=str(path))
    report.error(None, None, field_name, message)
    report.fatal = True
    return DatasetValidationError(report)


def _decode_error(path: str, text: str, exc: json.JSONDecodeError) -> DatasetValidationError:
    if not text.strip():
        return file_error(path, 'the file is empty (expected json)')
    if exc.pos >= len(text.rstrip()) - 1 or 'Unterminated' in exc.msg:
        hint = '; the file looks truncated (cut off before its end)'
    else:
        hint = ''
    return file_error(path, f'not valid json: {exc.msg} at line {exc.lineno} column '
                            f'{exc.colno} (char {exc.pos}){hint}')


def read_json(path: str, what: str = 'annotation file') -> Any:
    """Parse a json file.

    Args:
        path: the file.
        what: what the file is, for messages (``'detection file'``).

    Raises:
        DatasetValidationError: the file is missing, unreadable, empty, not
            UTF-8, not valid json or nested too deeply.
    """
    path = str(path)
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except FileNotFoundError:
        folder = os.path.dirname(path) or '.'
        where = '' if os.path.isdir(folder) else f' (its folder {folder} does not exist either)'
        raise file_error(path, f'{what} not found{where}') from None
    except IsADirectoryError:
        raise file_error(path, f'{what} is a folder, expected a json file') from None
    except OSError as exc:
        raise file_error(path, f'cannot read the {what}: {exc.strerror or exc}') from None
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as exc:
        raise file_error(path, f'not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset '
                               f'{exc.start} cannot be decoded') from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _decode_error(path, text, exc) from None
    except RecursionError:
        raise file_error(path, 'json nested too deeply to read') from None
    except ValueError as exc:   # e.g. an integer literal with too many digits
        raise file_error(path, f'not usable json: {exc}') from None
