"""What the top-down heads share: decoding into per-sample keypoints and the
flip-test inputs."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from mmengine.model import BaseModule
from mmengine.structures import InstanceData

__all__ = ['TopdownHead']


class TopdownHead(BaseModule):
    """Base of the heads: subclasses implement ``forward``, ``loss`` and
    ``predict_outputs`` (the flip-test averaged outputs: a tensor or a tuple
    of tensors) and set ``decoder``, a codec whose ``batch_decode`` takes
    those outputs as numpy arrays."""

    decoder: Any = None

    def predict_outputs(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                        test_cfg: dict | None = None):
        raise NotImplementedError

    @staticmethod
    def split_flip_feats(feats, flip_indices) -> tuple[Any, Any]:
        """``(feats, flipped_feats)`` of a flip-test call, checked.

        Raises:
            ValueError: ``feats`` is not such a pair.
            KeyError: no ``flip_indices``.
        """
        if not (isinstance(feats, (list, tuple)) and len(feats) == 2):
            raise ValueError('flip test needs feats as (feats, flipped_feats)')
        if flip_indices is None:
            raise KeyError("flip test needs flip_indices (the keypoint definition's partner "
                           'table)')
        return feats[0], feats[1]

    def decode(self, outputs: torch.Tensor | Sequence[torch.Tensor]) -> list[InstanceData]:
        """Head outputs -> per sample ``keypoints`` (1, K, 2) in crop pixels
        and ``keypoint_scores`` (1, K), numpy float32."""
        if self.decoder is None:
            raise RuntimeError(f'{type(self).__name__} needs a decoder (codec config) to '
                               'predict')
        tensors = (outputs,) if isinstance(outputs, torch.Tensor) else tuple(outputs)
        kpts, scores = self.decoder.batch_decode(
            *(t.detach().float().cpu().numpy() for t in tensors))
        return [InstanceData(keypoints=kpts[i:i + 1], keypoint_scores=scores[i:i + 1])
                for i in range(len(kpts))]

    def predict(self, feats, flip_indices: Sequence[int] | np.ndarray | None = None,
                test_cfg: dict | None = None) -> list[InstanceData]:
        """Decoded keypoints in crop pixels, one InstanceData per sample (see
        ``predict_outputs`` for the flip test)."""
        return self.decode(self.predict_outputs(feats, flip_indices, test_cfg))
