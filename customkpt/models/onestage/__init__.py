"""One-stage multi-instance models (objects as centre points): the
:class:`LiteFPN` neck, the dense :class:`CentreHead` and the
:class:`OneStageEstimator`. A detector is the same model whose codec has
no keypoints. Targets and decoding: :class:`customkpt.codecs.CentreLabel`."""
from .estimator import OneStageEstimator
from .head import CentreHead
from .neck import LiteFPN

__all__ = ['CentreHead', 'LiteFPN', 'OneStageEstimator']
