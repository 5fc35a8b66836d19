# RTMPose's top-down pipelines. Stage 1 (most of the run): flips, half-body
# crops, box scale 0.6-1.4 and rotation up to 80 degrees, HSV jitter, box and
# median blur, one dropped rectangle of 0.2-0.4 of the crop side, SimCC
# targets. Stage 2 (the last `stage2_num_epochs` epochs, switched in by
# `pipeline_switch_hook`): no box shift, scale 0.75-1.25, rotation up to 60,
# the rectangle half the time. A config adds the hook to its hooks:
#   custom_hooks = _base_.custom_hooks + [..., _base_.pipeline_switch_hook]
stage2_num_epochs = 30
flip_prob = 0.5     # horizontal flips; 0 where a flip would mislabel points (docs/training.md)


def _stage(shift_factor, scale_factor, rotate_factor, dropout_prob):
    return [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', padding=1.25),
        dict(type='RandomFlip', prob='${flip_prob}'),
        dict(type='RandomHalfBody'),
        dict(type='RandomBBoxTransform', shift_factor=shift_factor, shift_prob=0.3,
             scale_factor=scale_factor, rotate_factor=rotate_factor, rotate_prob=0.6),
        dict(type='TopdownAffine', input_size='${train_size}', use_udp='${use_udp(codec)}'),
        dict(type='RandomHSV', hue_delta=5, saturation_delta=30, value_delta=30),
        dict(type='Blur', prob=0.1),
        dict(type='MedianBlur', prob=0.1),
        dict(type='CoarseDropout', num_holes=(1, 1), hole_size=(0.2, 0.4), prob=dropout_prob),
        dict(type='GenerateTarget', encoder='${codec}'),
        dict(type='PackPoseInputs'),
    ]


train_pipeline = _stage(0.16, (0.6, 1.4), 80.0, 1.0)
train_pipeline_stage2 = _stage(0.0, (0.75, 1.25), 60.0, 0.5)
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size='${train_size}', use_udp='${use_udp(codec)}'),
    dict(type='PackPoseInputs'),
]
pipeline_switch_hook = dict(type='PipelineSwitchHook',
                            switch_epoch='${max_epochs - stage2_num_epochs}',
                            switch_pipeline='${train_pipeline_stage2}')
