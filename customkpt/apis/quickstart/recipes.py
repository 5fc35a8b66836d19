"""The models ``--model`` names and the config each run gets: a child of the
model's ready config under ``configs/`` (its recipe: network, pipelines,
optimiser, hooks) with the data, the keypoint definition and the sized
schedule set as knobs, read with its references resolved."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from customkpt.converters.flip_names import unpaired_side_points
from customkpt.errors import UserError

from .schedule import STEP_AT, Schedule

__all__ = ['Recipe', 'RECIPES', 'RTMPOSE_SCRATCH_ITERATIONS', 'CONFIGS_DIR', 'recipe_values',
           'flip_knobs', 'render_child', 'build_run_config']

#: The ready configs beside the package.
CONFIGS_DIR = Path(__file__).resolve().parents[3] / 'configs'
_MB = 1024 ** 2


@dataclass(frozen=True)
class Recipe:
    """One ``--model`` choice.

    Attributes:
        config: the ready config it inherits, relative to ``configs/``.
        bytes_per_sample: memory one sample takes in a float32 training step
            at that config's input size (measured on the CPU: peak resident
            memory at batch 8 minus batch 2, over 6, rounded up).
        summary: one line for ``--help``.
        lr_rule: how the recipe's learning rate follows a smaller batch:
            ``'sqrt'`` (the square-root rule) or ``'keep'`` (unchanged).
        scratch_iterations: iterations to size a run from random weights to
            (None: :data:`~.schedule.TARGET_ITERATIONS`, as with a start
            checkpoint).
    """

    config: str
    bytes_per_sample: int
    summary: str
    lr_rule: str = 'sqrt'
    scratch_iterations: int | None = None

    @property
    def path(self) -> Path:
        """The ready config file."""
        return CONFIGS_DIR / self.config


#: Iterations an RTMPose run from random weights is sized to. Its CSPNeXt
#: backbone learns slowly from scratch: RTMPose-s on the open-field mouse
#: (batch 8) was at EPE 4.5 px after 2730 iterations and 1.9 px after 5460,
#: on the mirror-mouse at 15.8 px after 2000 and 10.0 after 6000
#: (docs/benchmarks.md).
#: Each iteration costs about a twelfth of an HRNet-W32 one.
RTMPOSE_SCRATCH_ITERATIONS = 6000

#: ``--model`` name -> recipe. The CPU-sized HRNet is the default without a GPU.
RECIPES: dict[str, Recipe] = {
    'rtmpose-t': Recipe('rtmpose_t_self5.py', 40 * _MB, 'RTMPose-t (CSPNeXt + SimCC), 256x192',
                        scratch_iterations=RTMPOSE_SCRATCH_ITERATIONS),
    'rtmpose-s': Recipe('rtmpose_s_self5.py', 55 * _MB, 'RTMPose-s, 256x192',
                        scratch_iterations=RTMPOSE_SCRATCH_ITERATIONS),
    'rtmpose-m': Recipe('rtmpose_m_self5.py', 90 * _MB, 'RTMPose-m, 256x192',
                        scratch_iterations=RTMPOSE_SCRATCH_ITERATIONS),
    # Adam at 5e-4, MMPose's HRNet rate for a total batch of 512, trains
    # HRNet-W32 well at batch 8 too (the open-field mouse reference run,
    # docs/benchmarks.md); the square-root rule would cut it to 1.9e-4.
    'hrnet-w32': Recipe('hrnet_self5.py', 200 * _MB, 'HRNet-W32 heatmaps, 256x192',
                        lr_rule='keep'),
    'hrnet-cpu': Recipe('hrnet_self5_cpu.py', 10 * _MB,
                        'the small HRNet at 128x96 that trains on a CPU in minutes'),
}


def recipe_values(name: str, from_scratch: bool = True) -> dict[str, Any]:
    """The knobs of a recipe that the schedule starts from: ``train_size``,
    ``batch_size``, ``lr``, ``max_epochs``, ``lr_policy`` and, for RTMPose,
    ``stage2_num_epochs``, read from the ready config (its bases resolved),
    the recipe's ``lr_rule``, and, ``from_scratch`` (no start weights), its
    ``scratch_iterations`` as ``target_iterations``."""
    from customkpt.engine.config import load_config
    recipe = RECIPES[name]
    if not recipe.path.is_file():
        raise UserError(f'--model {name}: its config {recipe.path} is missing (the ready '
                        'configs sit in configs/ beside the customkpt package)')
    cfg = load_config(str(recipe.path))
    keys = ('train_size', 'batch_size', 'lr', 'max_epochs', 'lr_policy', 'stage2_num_epochs')
    values = dict({k: cfg[k] for k in keys if k in cfg}, lr_rule=recipe.lr_rule)
    if from_scratch and recipe.scratch_iterations:
        values['target_iterations'] = recipe.scratch_iterations
    return values


def _stage2_epochs(recipe: dict, epochs: int) -> int:
    """RTMPose's last epochs on the lighter pipeline: the recipe's share of
    the run, at least one, fewer than ``epochs`` (none in a one-epoch run)."""
    share = recipe['stage2_num_epochs'] / recipe['max_epochs']
    return max(0, min(epochs - 1, max(1, round(epochs * share))))


def flip_knobs(names: list[str], pairs: list[list[int]]) -> dict[str, Any]:
    """No horizontal flips, in training or in the test (``flip_prob = 0.0``,
    ``flip_test = False``), where points are named for a side but have no
    flip pair: a flip would move them to the other side under the same
    names. Empty (the recipe's flips) otherwise.

    On the mirror-mouse (8 such paws) turning the flips off lowered the
    EPE of HRNet-W32 at every seed measured (docs/benchmarks.md, "Flips
    that mislabel points").
    """
    return dict(flip_prob=0.0, flip_test=False) if unpaired_side_points(names, pairs) else {}


def _knob_lines(values: dict[str, Any]) -> list[str]:
    return [f'{key} = {value!r}' for key, value in values.items()]


def render_child(name: str, recipe: dict, data: Any, definition: dict, schedule: Schedule
                 ) -> str:
    """The text of the run's config: the ready config of ``name`` as its
    base, then the data (``PreparedData``), keypoint and schedule knobs.

    ``metainfo`` is replaced (not merged with the base's), so nothing of the
    recipe's own dataset definition is left; ``sigmas = None`` leaves the OKS
    sigmas to the defaults by part name (with a warning).
    """
    lines = [f'# customkpt train --data, model {name}: {RECIPES[name].config} with the '
             'data, keypoints and schedule below.',
             f'_base_ = [{str(RECIPES[name].path)!r}]', '']
    lines += _knob_lines(dict(
        data_root='', train_ann_file=str(data.train_file), val_ann_file=str(data.val_file),
        train_img_prefix=str(data.train_images) + '/', img_prefix=str(data.val_images) + '/',
        num_joints=len(definition['keypoint_names']), **{
            k: definition[k] for k in ('keypoint_names', 'flip_pairs', 'skeleton', 'sigmas')}))
    lines.append(f"metainfo = dict(_delete_=True, dataset_name={definition['dataset_name']!r}, "
                 "num_joints='${num_joints}', keypoint_names='${keypoint_names}', "
                 "flip_pairs='${flip_pairs}', skeleton='${skeleton}', sigmas='${sigmas}')")
    knobs = dict(train_size=tuple(schedule.input_size), batch_size=schedule.batch_size,
                 lr=schedule.lr, max_epochs=schedule.epochs, val_interval=schedule.val_interval,
                 warmup_iters=schedule.warmup_iters)
    if recipe.get('lr_policy') == 'step':   # one step (schedule.STEP_AT), following max_epochs
        knobs['milestones'] = f'${{[max_epochs * {STEP_AT[0]} // {STEP_AT[1]}]}}'
    knobs.update(flip_knobs(definition['keypoint_names'], definition['flip_pairs']))
    if 'stage2_num_epochs' in recipe:
        knobs['stage2_num_epochs'] = _stage2_epochs(recipe, schedule.epochs)
    lines += [''] + _knob_lines(knobs)
    lines.append("default_hooks = dict(checkpoint=dict(save_best='AUC', rule='greater', "
                 f'interval={schedule.val_interval}), '
                 f'logger=dict(interval={min(50, schedule.iters_per_epoch)}))')
    return '\n'.join(lines) + '\n'


def build_run_config(text: str, work_dir: str | Path, cfg_options: dict | None = None,
                     resolve: bool = True):
    """The :class:`mmengine.config.Config` of ``text`` with ``cfg_options``
    merged (so knobs set there reach everything that refers to them),
    ``work_dir`` set, and, with ``resolve``, its references resolved and its
    conventions checked. Unresolved, it is the config to write for the user:
    every knob at its top still drives what refers to it."""
    from mmengine.config import Config

    from customkpt.engine.config import check_conventions, merge_options
    from customkpt.engine.references import resolve_references
    cfg = Config.fromstring(text, '.py')
    merge_options(cfg, cfg_options)
    if resolve:
        cfg = resolve_references(cfg)
        check_conventions(cfg)
    cfg.work_dir = str(Path(work_dir).resolve())
    return cfg
