# Runtime settings shared by customkpt's configs: hooks, logging, environment.
default_scope = 'customkpt'
custom_imports = dict(imports=['customkpt'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keeps the newest checkpoints and the best one by the config's main metric
    # (each config sets `save_best`); files are written to a temporary name and
    # renamed, so a killed run never leaves a half-written checkpoint.
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3, rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# ModelMetaHook gives a model built without metainfo the dataset's keypoint
# definition (flip table) and checks that both agree. EpochSeedHook makes each
# epoch's random draws a function of (seed, epoch), so `--resume` reproduces
# the uninterrupted run. Append to this list, don't replace it.
custom_hooks = [dict(type='ModelMetaHook'), dict(type='EpochSeedHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),  # tools/train.py switches to gloo without a GPU
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='PoseVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True, num_digits=6)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
