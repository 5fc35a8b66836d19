# Adam; a linear warm-up over the first `warmup_iters` iterations, then a
# step (`lr_policy = 'step'`, x0.1 at the `milestones` epochs: by default
# 17/21 and 20/21 of the run, 170 and 200 of 210) or cosine
# (`lr_policy = 'cosine'`, down to lr / 100) decay that ends at `max_epochs`.
max_epochs = 210
lr = 5e-4
val_interval = 10                      # epochs between evaluations
warmup_iters = 500
warmup_factor = 0.001                  # the warm-up starts at lr x this
lr_policy = 'step'
milestones = '${[max_epochs * 17 // 21, max_epochs * 20 // 21]}'
lr_policies = dict(
    step=dict(type='MultiStepLR', begin=0, end='${max_epochs}', milestones='${milestones}',
              gamma=0.1, by_epoch=True),
    cosine=dict(type='CosineAnnealingLR', begin=0, end='${max_epochs}', eta_min='${lr * 0.01}',
                by_epoch=True))

train_cfg = dict(by_epoch=True, max_epochs='${max_epochs}', val_interval='${val_interval}')
val_cfg = dict()
test_cfg = dict()

optim_wrapper = dict(optimizer=dict(type='Adam', lr='${lr}'))
param_scheduler = [
    dict(type='LinearLR', begin=0, end='${warmup_iters}', start_factor='${warmup_factor}',
         by_epoch=False),
    '${lr_policies[lr_policy]}',
]
auto_scale_lr = dict(base_batch_size=512)   # --auto-scale-lr: lr x total batch / 512
