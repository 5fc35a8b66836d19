"""Checkpoints that are complete or absent: :class:`AtomicCheckpointHook`.

mmengine's ``CheckpointHook`` writes each checkpoint and the
``last_checkpoint`` pointer straight to their final paths, and deletes the
checkpoint that falls out of ``max_keep_ckpts`` (or the previous best one)
before it writes the new one. A run killed while saving can leave a truncated
``epoch_N.pth``, an empty pointer, or no checkpoint at all.

:class:`AtomicCheckpointHook` keeps the parent's behaviour (names, intervals,
rotation, best checkpoints, message-hub bookkeeping) and changes how the
files reach the disk:

* a checkpoint is written under a hidden temporary name in the same folder,
  flushed to disk and renamed onto its final name (``os.replace``);
* the pointer file is written in a hidden staging folder inside the work
  directory and renamed into place the same way, after the checkpoint;
* files the parent deletes are deleted only after the new files are in place.

A killed save leaves at most hidden ``.staging-*`` leftovers, removed when the
next run in that work directory starts. Checkpoints in a remote folder
(a non-local file backend) are written as the parent writes them.
"""
from __future__ import annotations

import os
import os.path as osp
import shutil
from contextlib import contextmanager
from typing import Any, Iterator

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook

from customkpt.registry import HOOKS

STAGING_PREFIX = '.staging-'
POINTER = 'last_checkpoint'


def replace_atomically(temp: str, final: str) -> None:
    """Flush ``temp`` to disk and rename it onto ``final`` (same folder)."""
    with open(temp, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(temp, final)
    try:                               # make the rename itself durable (POSIX)
        folder = os.open(osp.dirname(final) or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def remove_staging_leftovers(folder: str) -> list[str]:
    """Delete the ``.staging-*`` files and folders in ``folder``; their names."""
    if not osp.isdir(folder):
        return []
    removed = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith(STAGING_PREFIX):
            continue
        path = osp.join(folder, name)
        if osp.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
        removed.append(name)
    return removed


class _DeferredRemovals:
    """A file backend whose ``remove`` only records the path."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.pending: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)

    def remove(self, filepath: str) -> None:
        self.pending.append(str(filepath))


class _StagedRunner:
    """The runner as the parent hook's saving code sees it.

    ``save_checkpoint`` writes under a temporary name and renames the file
    into place; ``work_dir`` is the staging folder, so the parent's pointer
    file lands there first.
    """

    def __init__(self, runner: Any, staging_dir: str) -> None:
        self._runner = runner
        self.work_dir = staging_dir
        self.written: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)

    def save_checkpoint(self, out_dir: str, filename: str, *args: Any, **kwargs: Any) -> None:
        final = osp.join(out_dir, filename)
        temp_name = f'{STAGING_PREFIX}{os.getpid()}-{filename}'
        temp = osp.join(out_dir, temp_name)
        try:
            self._runner.save_checkpoint(out_dir, temp_name, *args, **kwargs)
            if is_main_process():
                replace_atomically(temp, final)
        except BaseException:
            if osp.exists(temp):
                os.remove(temp)
            raise
        self.written.add(final)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` (same arguments) whose files appear whole or not at
    all; see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stage: _StagedRunner | None = None

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and self._atomic():
            for folder in {runner.work_dir, self.out_dir}:
                removed = remove_staging_leftovers(folder)
                if removed:
                    runner.logger.warning(f'Removed the leftovers of an interrupted '
                                          f'checkpoint save in {folder}: {removed}')

    def _atomic(self) -> bool:
        return isinstance(getattr(self, 'file_backend', None), (LocalBackend, _DeferredRemovals))

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        with self._staged(runner) as staged:
            super()._save_checkpoint_with_step(staged, step, meta)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        with self._staged(runner) as staged:
            super()._save_best_checkpoint(staged, metrics)

    @contextmanager
    def _staged(self, runner) -> Iterator[Any]:
        """Run the parent's saving code with staged writes and late removals.

        Re-entrant: the parent's best-checkpoint code calls the step-saving
        code, which then shares the outer stage.
        """
        if self._stage is not None or not self._atomic():
            yield self._stage or runner
            return
        staging_dir = osp.join(runner.work_dir, f'{STAGING_PREFIX}{os.getpid()}')
        if is_main_process():
            os.makedirs(staging_dir, exist_ok=True)
        backend, removals = self.file_backend, _DeferredRemovals(self.file_backend)
        self.file_backend, self._stage = removals, _StagedRunner(runner, staging_dir)
        try:
            yield self._stage
            self._commit(runner, staging_dir, removals, self._stage.written)
        finally:
            self.file_backend, self._stage = backend, None
            shutil.rmtree(staging_dir, ignore_errors=True)

    @staticmethod
    def _commit(runner, staging_dir: str, removals: _DeferredRemovals, written: set[str]) -> None:
        """Move the staged pointer into place, then delete outdated files."""
        if not is_main_process():
            return
        staged_pointer = osp.join(staging_dir, POINTER)
        if osp.exists(staged_pointer):
            replace_atomically(staged_pointer, osp.join(runner.work_dir, POINTER))
        for path in removals.pending:
            if path not in written and osp.isfile(path):
                os.remove(path)
