"""customkpt's registries.

Each registry is a child of the matching mmengine root registry, with scope
``customkpt``. A config whose ``default_scope`` is ``customkpt`` finds our
classes by their bare names; a config of another mmengine project reaches
them as ``customkpt.ClassName`` once ``customkpt`` is imported (for example
through ``custom_imports=dict(imports=['customkpt'])``).

``locations`` lists the modules that register into each registry, so a
registry imports them lazily the first time a class is built from it.

Importing this module also allow-lists the data-only types of mmengine
checkpoints and routes mmengine's local checkpoint loading through
:func:`customkpt.checkpoint.load_local` (weights-only unpickling): every
mmengine build in the ``customkpt`` scope imports it first, so ``load_from``,
``--resume`` and ``Runner.load_checkpoint`` are covered.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

from .checkpoint import install_mmengine_loader, register_safe_globals

SCOPE = 'customkpt'


def _child(name: str, parent: Registry, *locations: str) -> Registry:
    return Registry(name, parent=parent, scope=SCOPE, locations=list(locations))


# Runner parts.
RUNNERS = _child('runner', MMENGINE_RUNNERS)
LOOPS = _child('loop', MMENGINE_LOOPS)
HOOKS = _child('hook', MMENGINE_HOOKS, 'customkpt.engine', 'customkpt.smoothing')
LOG_PROCESSORS = _child('log processor', MMENGINE_LOG_PROCESSORS)
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS, 'customkpt.datasets')

# Data.
DATASETS = _child('dataset', MMENGINE_DATASETS, 'customkpt.datasets')
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, 'customkpt.datasets')
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, 'customkpt.datasets.transforms')

# Models and their training.
MODELS = _child('model', MMENGINE_MODELS, 'customkpt.models', 'customkpt.engine.ema')
MODEL_WRAPPERS = _child('model wrapper', MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS)
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = _child('optim wrapper', MMENGINE_OPTIM_WRAPPERS, 'customkpt.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor',
                                    MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, 'customkpt.engine')
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS)

# Evaluation and drawing.
METRICS = _child('metric', MMENGINE_METRICS, 'customkpt.evaluation')
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR)
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, 'customkpt.visualization')
VISBACKENDS = _child('vis backend', MMENGINE_VISBACKENDS)

# Keypoint codecs (heatmap encoders/decoders) have no mmengine counterpart.
KEYPOINT_CODECS = Registry('keypoint codec', scope=SCOPE,
                           locations=['customkpt.codecs.registration'])

# Video inference: temporal keypoint filters and where boxes come from.
KEYPOINT_FILTERS = Registry('keypoint filter', scope=SCOPE, locations=['customkpt.smoothing'])
BOX_PROVIDERS = Registry('box provider', scope=SCOPE,
                         locations=['customkpt.apis.boxes', 'customkpt.apis.detector',
                                    'customkpt.apis.onestage'])

__all__ = [
    'SCOPE', 'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'FUNCTIONS', 'DATASETS',
    'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'METRICS', 'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'KEYPOINT_CODECS', 'KEYPOINT_FILTERS',
    'BOX_PROVIDERS'
]

register_safe_globals()
install_mmengine_loader()
