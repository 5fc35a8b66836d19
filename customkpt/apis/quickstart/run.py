"""One command on your own data: from ``--data`` to the config file of the
run (:func:`prepare_run`), and, after training, where its results are."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from customkpt.converters.flip_names import unpaired_side_note

from .facts import TrainFacts, read_train_facts
from .prepare import PreparedData, prepare_data
from .recipes import RECIPES, build_run_config, flip_knobs, recipe_values, render_child
from .schedule import Schedule, available_memory, size_schedule
from .sources import DataSource, recognise

__all__ = ['RunPlan', 'prepare_run', 'default_model', 'starts_from_weights', 'fixed_epochs',
           'default_work_dir', 'best_checkpoint', 'training_logs', 'write_metrics']

#: The file the run's full config is written to, inside the work dir.
CONFIG_NAME = 'config.py'
#: ``--cfg-options`` keys that fix the number of epochs.
EPOCH_KEYS = ('max_epochs', 'train_cfg.max_epochs')


@dataclass
class RunPlan:
    """A prepared run.

    Attributes:
        config: the full config file (``WORK_DIR/config.py``).
        work_dir: where everything goes.
        model: the ``--model`` name.
        source: what ``--data`` was recognised as.
        data: the train / val files and image roots.
        facts: the numbers read from the train file.
        schedule: the sized schedule.
        lines: the report of what was decided and why.
    """

    config: Path
    work_dir: Path
    model: str
    source: DataSource
    data: PreparedData
    facts: TrainFacts
    schedule: Schedule
    lines: list[str] = field(default_factory=list)


def default_model() -> str:
    """``hrnet-w32`` where torch sees a GPU, else ``hrnet-cpu``."""
    import torch
    return 'hrnet-w32' if torch.cuda.is_available() else 'hrnet-cpu'


def starts_from_weights(cfg_options: dict | None) -> bool:
    """Whether ``--cfg-options`` give the run start weights (``load_from`` or
    ``model.pretrained``)."""
    return any(value and (key == 'load_from' or key.startswith('model.pretrained'))
               for key, value in (cfg_options or {}).items())


def fixed_epochs(epochs: int | None, cfg_options: dict | None) -> tuple[int | None, str]:
    """The run's fixed epochs and where they came from: ``--epochs``, or a
    ``--cfg-options`` key of :data:`EPOCH_KEYS` (so the warm-up cap, the
    validation interval and the report follow it, not only the training loop).

    Raises:
        UserError: when they give different numbers.
    """
    given = {key: int(value) for key, value in (cfg_options or {}).items() if key in EPOCH_KEYS}
    if epochs:
        given = {'--epochs': int(epochs), **given}
    if len(set(given.values())) > 1:
        from customkpt.errors import UserError
        raise UserError('the epochs are given twice with different values ('
                        + ', '.join(f'{k} {v}' for k, v in given.items()) + '): give them once')
    source = next(iter(given), None)
    if source is None:
        return None, '--epochs'
    return given[source], source if source == '--epochs' else f'--cfg-options {source}'


def default_work_dir(source: DataSource, model: str) -> Path:
    """``work_dirs/<data name>_<model>`` (relative to the current folder)."""
    return Path('work_dirs') / f'{source.name}_{model}'


def prepare_run(data: str | Path, model: str | None = None, work_dir: str | Path | None = None,
                images: str | Path | None = None, epochs: int | None = None,
                val_fraction: float | None = None, cfg_options: dict | None = None,
                memory: Callable[[], tuple[int, str]] = available_memory) -> RunPlan:
    """Recognise ``data``, convert / split it into ``WORK_DIR/data`` when
    needed, size the schedule, and write the run's full config (its bases
    merged in; its ``${...}`` references kept, so an edited knob such as
    ``train_size`` or ``lr`` reaches everything that refers to it) to
    ``WORK_DIR/config.py``, which ``customkpt train WORK_DIR/config.py``
    trains again.

    Args:
        data: ``--data``: a COCO-keypoint file or folder, a DeepLabCut project
            (or one of its tables), a Labelme folder.
        model: a key of :data:`~.recipes.RECIPES` (None: :func:`default_model`).
        work_dir: the run's folder (None: :func:`default_work_dir`).
        images: ``--images``: the image root of a COCO-keypoint file.
        epochs: fixed epochs instead of the sizing rule.
        val_fraction: share of images held out when a split is made.
        cfg_options: ``--cfg-options``, merged before references resolve.
        memory: returns (free bytes, where from), for the batch's memory cap.
    """
    model = model or default_model()
    if model not in RECIPES:
        from customkpt.errors import UserError
        raise UserError(f'--model {model!r}: choose one of {sorted(RECIPES)}')
    source = recognise(data)
    work = Path(work_dir) if work_dir else default_work_dir(source, model)
    prepared = prepare_data(source, work, images, val_fraction)
    facts = read_train_facts(prepared.train_file, prepared.train_coco)
    recipe = recipe_values(model, from_scratch=not starts_from_weights(cfg_options))
    epochs, epochs_from = fixed_epochs(epochs, cfg_options)
    schedule = size_schedule(facts.num_instances, facts.median_aspect, recipe,
                             RECIPES[model].bytes_per_sample, epochs, memory,
                             batch=(cfg_options or {}).get('batch_size'), epochs_from=epochs_from)
    definition = dict(facts.definition,
                      flip_pairs=_run_flip_pairs(facts.definition['flip_pairs'], cfg_options))
    text = render_child(model, recipe, prepared, definition, schedule)
    build_run_config(text, work, cfg_options)          # resolves and checks it
    config = work.resolve() / CONFIG_NAME
    config.parent.mkdir(parents=True, exist_ok=True)
    build_run_config(text, work, cfg_options, resolve=False).dump(str(config))
    # The files' contents served to read each file once; training does not keep them.
    plan = RunPlan(config, work.resolve(), model, replace(source, coco=None, val_coco=None),
                   replace(prepared, train_coco=None), facts, schedule)
    plan.lines = _report(plan, cfg_options)
    return plan


def _run_flip_pairs(pairs: Any, cfg_options: dict | None) -> Any:
    """The flip pairs that decide the run's flips: ``flip_pairs`` in
    ``--cfg-options`` over the data's ``pairs``."""
    return (cfg_options or {}).get('flip_pairs', pairs)


def _report(plan: RunPlan, cfg_options: dict | None) -> list[str]:
    facts, meta = plan.facts, plan.facts.meta
    names = meta.keypoint_names
    pairs = ', '.join(f'{names[a]}<->{names[b]}' for a, b in meta.flip_pairs) or 'none'
    lines = list(plan.data.lines)
    lines += [f'training: {facts.num_instances} instances on {facts.num_images} images '
              f'({plan.data.train_file}); val: {plan.data.val_file}',
              f'keypoints ({meta.num_keypoints}): {", ".join(names)}; flip pairs: {pairs}',
              f'model {plan.model}: {RECIPES[plan.model].summary} ({RECIPES[plan.model].path})']
    lines += list(plan.schedule.why)
    unpaired = unpaired_side_note(names, meta.flip_pairs, where=f'{plan.config} (the knob at its top)')
    if unpaired:
        lines.append(f'note: {unpaired}')
    if flip_knobs(names, _run_flip_pairs(meta.flip_pairs, cfg_options)):
        lines.append('no horizontal flips, in training or in the test (flip_prob = 0.0 and '
                     'flip_test = False at the top of the config): a flip would move the points '
                     'named for a side to the other side under the same names. Where the '
                     'animals face both ways, set flip_pairs, flip_prob = 0.5 and flip_test = '
                     'True to flip with the pairs (docs/training.md)')
    if plan.model == 'hrnet-cpu':
        lines.append('note: for more accuracy at about ten times the time, --model rtmpose-s '
                     '(mouse projects: 1.9 / 10.6 px against 2.8 / 11.0; docs/models.md)')
    scratch = RECIPES[plan.model].scratch_iterations
    if (scratch and not starts_from_weights(cfg_options)
            and plan.schedule.iterations < scratch):
        lines.append('note: RTMPose from random weights needs thousands of iterations on a '
                     'small dataset (open-field mouse, RTMPose-s: EPE 4.5 px after 2700, '
                     f'1.9 px after 5500; docs/models.md), this run has {plan.schedule.iterations}'
                     f' (the sizing rule aims at {scratch}): raise --epochs, or start from an '
                     'RTMPose checkpoint with --cfg-options load_from=CKPT')
    if cfg_options:
        lines.append('--cfg-options over these: '
                     + ', '.join(f'{k}={v!r}' for k, v in cfg_options.items()))
    lines.append(f'config: {plan.config}')
    return lines


def best_checkpoint(work_dir: str | Path) -> Path | None:
    """The newest ``best_*.pth`` of the work dir, else the checkpoint named in
    ``last_checkpoint``, else None."""
    work_dir = Path(work_dir)
    best = sorted(work_dir.glob('best_*.pth'), key=lambda p: p.stat().st_mtime)
    if best:
        return best[-1]
    pointer = work_dir / 'last_checkpoint'
    if pointer.is_file():
        last = Path(pointer.read_text().strip())
        return last if last.is_file() else None
    return None


def training_logs(work_dir: str | Path) -> tuple[Path | None, Path | None]:
    """The newest run's log file and ``vis_data/scalars.json`` in the work dir."""
    logs = sorted(Path(work_dir).glob('*/*.log'), key=lambda p: p.stat().st_mtime)
    if not logs:
        return None, None
    scalars = logs[-1].parent / 'vis_data' / 'scalars.json'
    return logs[-1], (scalars if scalars.is_file() else None)


def write_metrics(work_dir: str | Path, checkpoint: Path, metrics: dict[str, Any]) -> Path:
    """``WORK_DIR/metrics.json``: the evaluated checkpoint and its val metrics."""
    path = Path(work_dir) / 'metrics.json'
    values = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
    path.write_text(json.dumps(dict(checkpoint=str(checkpoint), metrics=values), indent=2) + '\n')
    return path
