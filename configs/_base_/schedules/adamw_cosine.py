# AdamW, as RTMPose trains: weight decay on the weights only (norms and
# biases get none), a linear warm-up over the first `warmup_iters`
# iterations from lr x `warmup_factor`, the lr held for the first half of
# the run, then a cosine decay to lr x `eta_min_factor` over the second half
# (to `max_epochs`). The published recipe: lr 4e-3 for a total batch of
# 1024, 1000 warm-up iterations from 1e-5x, 420 epochs; a small data set
# wants a warm-up of a few epochs' iterations instead.
max_epochs = 420
lr = 4e-3
weight_decay = 0.05
val_interval = 10                      # epochs between evaluations
warmup_iters = 1000
warmup_factor = 1e-5                   # the warm-up starts at lr x this
eta_min_factor = 0.05                  # the cosine ends at lr x this
cosine_begin = '${max_epochs // 2}'

train_cfg = dict(by_epoch=True, max_epochs='${max_epochs}', val_interval='${val_interval}')
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr='${lr}', weight_decay='${weight_decay}'),
    paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True))
param_scheduler = [
    dict(type='LinearLR', begin=0, end='${warmup_iters}', start_factor='${warmup_factor}',
         by_epoch=False),
    dict(type='CosineAnnealingLR', begin='${cosine_begin}', end='${max_epochs}',
         T_max='${max_epochs - cosine_begin}', eta_min='${lr * eta_min_factor}',
         by_epoch=True, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=1024)   # --auto-scale-lr: lr x total batch / 1024

# An exponential moving average of the weights (mmengine's EMAHook): it
# validates and is saved as the checkpoint's `state_dict` (the raw weights
# go to `ema_state_dict` for resuming). A config adds it to its hooks:
#   custom_hooks = _base_.custom_hooks + [_base_.ema_hook, ...]
ema_momentum = 2e-4
ema_hook = dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum='${ema_momentum}',
                update_buffers=True, priority=49)
