"""Which runs of a work dir's scalar logs a training curve reads.

A resumed training run writes a new ``<timestamp>/vis_data/scalars.json``
beside the earlier ones. :func:`customkpt.visualization.curves.load_scalars`
and ``customkpt plot --runs`` take one of :data:`RUN_MODES`; the names live
here, away from the plotting code, so the command's ``--help`` needs no torch.
"""
from __future__ import annotations

__all__ = ['RUN_MODES']

#: 'auto': the newest run that trained, chained onto the earlier runs it
#: resumed from; 'newest': the newest run only; 'all': every run, oldest first.
RUN_MODES = ('auto', 'newest', 'all')
