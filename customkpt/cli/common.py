"""What every ``customkpt`` subcommand shares: its parser and the repository paths."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

#: The checkout customkpt runs from (configs/, data/, work_dirs/ lie here).
REPO_ROOT = Path(__file__).resolve().parents[2]


class _RawWithDefaults(argparse.RawDescriptionHelpFormatter,
                       argparse.ArgumentDefaultsHelpFormatter):
    """Examples kept as written, option defaults appended to their help."""


def make_parser(command: str, description: str, examples: Sequence[str],
                notes: str = '', show_defaults: bool = False) -> argparse.ArgumentParser:
    """The parser of ``customkpt <command>``.

    Args:
        command: the subcommand name (``train``); the usage line reads
            ``customkpt train ...``.
        description: one sentence shown above the options.
        examples: command lines shown under ``examples:`` after the options.
        notes: more text after the examples (kept as written).
        show_defaults: append ``(default: ...)`` to every option's help.
    """
    epilog = 'examples:\n' + '\n'.join(f'  {line}' for line in examples)
    if notes:
        epilog += '\n\n' + notes.strip('\n')
    formatter = _RawWithDefaults if show_defaults else argparse.RawDescriptionHelpFormatter
    return argparse.ArgumentParser(prog=f'customkpt {command}', description=description,
                                   epilog=epilog, formatter_class=formatter)
