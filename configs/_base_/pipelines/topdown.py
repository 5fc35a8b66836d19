# Top-down pipelines: each instance's box cropped to `train_size` with the
# codec's pixel convention; training adds flips, half-body crops, box
# jitter and the codec's targets. No colour jitter: on both real mouse
# projects' grey frames `PhotometricDistortion` cost accuracy (docs/benchmarks.md);
# add it after `TopdownAffine` for data whose colours vary.
flip_prob = 0.5     # horizontal flips; 0 where a flip would mislabel points (docs/training.md)
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='RandomFlip', prob='${flip_prob}'),
    dict(type='RandomHalfBody'),
    dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3,
         scale_factor=(0.5, 1.5), rotate_factor=80.0, rotate_prob=0.6),
    dict(type='TopdownAffine', input_size='${train_size}', use_udp='${use_udp(codec)}'),
    dict(type='GenerateTarget', encoder='${codec}'),
    dict(type='PackPoseInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size='${train_size}', use_udp='${use_udp(codec)}'),
    dict(type='PackPoseInputs'),
]
