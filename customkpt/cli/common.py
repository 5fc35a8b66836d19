"""What every ``customkpt`` subcommand shares: its parser, the repository paths
and the one way a user's error is reported."""
from __future__ import annotations

import argparse
import copy
import gc
import os
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

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


def debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """Whether ``--debug`` is among ``argv`` or ``CUSTOMKPT_DEBUG=1`` is set,
    and ``argv`` without ``--debug``."""
    rest = [a for a in argv if a != '--debug']
    env = os.environ.get('CUSTOMKPT_DEBUG', '').strip().lower() not in ('', '0', 'false', 'no')
    return env or len(rest) != len(argv), rest


def error_line(command: str, exc: BaseException) -> str:
    """``customkpt <command>: error: <message>``; a message of several lines
    (a dataset validation report) keeps its further lines below."""
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        message = f'{exc.strerror}: {exc.filename}'
    return f'customkpt {command}: error: {message}'


def run_reporting_errors(command: str, main: Callable[[list[str]], Any],
                         argv: list[str], debug: bool = False) -> int:
    """Run a subcommand's ``main(argv)``; the exit status it stands for.

    An error that is the user's to fix (:func:`customkpt.errors.user_error_types`,
    or ``SystemExit`` with a message) is printed as one
    :func:`error_line` on stderr and gives status 2; with ``debug`` it is
    raised with its traceback. Any other exception is a bug and propagates.
    """
    from customkpt.errors import user_error_types
    try:
        status = main(argv)
    except SystemExit as exc:
        if debug or exc.code is None or isinstance(exc.code, int):
            raise
        print(error_line(command, exc), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001  (sorted into the user's and bugs below)
        if debug or not isinstance(exc, user_error_types()):
            raise
        print(error_line(command, exc), file=sys.stderr)
        return 2
    return status if isinstance(status, int) else 0


def parse_run_args(parser: argparse.ArgumentParser, argv: list[str] | None
                   ) -> argparse.Namespace:
    """Add the options every mmengine runner command takes (``--skip-invalid``,
    ``--cfg-options``, ``--launcher``, ``--local-rank``), parse ``argv`` and
    set ``LOCAL_RANK`` from ``--local-rank`` unless it is set already."""
    from mmengine.config import DictAction
    parser.add_argument('--skip-invalid', action='store_true',
                        help='drop annotation records that fail validation instead of stopping')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_cfg.max_epochs=5')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _keep_config_file(cfg: Any) -> Any:
    """``cfg``, or a copy without its file name when that file lives in the
    work dir: the Runner writes the resolved config to
    ``work_dir/<config file name>`` and would overwrite the editable one
    (with its ``${knob}`` references) that ``train --data`` wrote there; the
    resolved copy is then written as ``work_dir/<timestamp>.py`` instead."""
    filename, work_dir = cfg.filename, cfg.get('work_dir')
    if not filename or not work_dir:
        return cfg
    target = os.path.join(work_dir, os.path.basename(filename))
    if not (os.path.exists(target) and os.path.samefile(filename, target)):
        return cfg
    cfg = copy.deepcopy(cfg)
    object.__setattr__(cfg, '_filename', None)
    return cfg


def run_loop(cfg: Any, launcher: str, loop: str) -> Any:
    """Build an mmengine ``Runner`` from ``cfg`` and run its ``loop``
    (``'train'`` or ``'test'``) inside a process group for ``launcher``;
    what the loop returns.

    The checkpoint in ``cfg.load_from`` (``test``'s CHECKPOINT, a config's
    ``load_from``, ``--resume PATH``) is read and checked against the model
    first: a missing, unreadable, unsafe or mismatched file fails in one
    line before the Runner prints the environment and the config.
    """
    import customkpt.registry  # noqa: F401  (registries and the safe checkpoint loader)
    from mmengine.runner import Runner

    from customkpt.engine.config import close_process_group, init_cpu_process_group
    from customkpt.engine.model_fit import check_checkpoint_fits_config
    if cfg.get('load_from'):
        check_checkpoint_fits_config(cfg, cfg.load_from, resume=bool(cfg.get('resume')))
    init_cpu_process_group(launcher)
    runner = Runner.from_cfg(_keep_config_file(cfg))
    try:
        return getattr(runner, loop)()
    finally:
        # The DDP wrapper keeps the process group (and gloo's worker threads)
        # alive; freed only at interpreter exit they can abort the process.
        del runner
        gc.collect()
        close_process_group()
