# Whole-image pipelines of the one-stage models: random flip (left/right
# points swapped by the definition's flip pairs), a random zoom of 0.75-1.25
# and shift of up to 10% of the letterbox region, letterbox to `input_size`,
# HSV jitter, the centre targets of `codec`. Validation: letterbox only.
train_pipeline = [
    dict(type='LoadImage'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomImageScaleShift', scale_range=(0.75, 1.25), shift_factor=0.1),
    dict(type='ImageAffine', input_size='${input_size}'),
    dict(type='RandomHSV', hue_delta=5, saturation_delta=30, value_delta=30),
    dict(type='GenerateCentreTarget', encoder='${codec}'),
    dict(type='PackImageInputs'),
]
val_pipeline = [
    dict(type='LoadImage'),
    dict(type='ImageAffine', input_size='${input_size}'),
    dict(type='PackImageInputs'),
]
