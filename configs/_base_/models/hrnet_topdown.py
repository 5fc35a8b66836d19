# HRNet top-down heatmap model. Set its knobs at the top of a config:
# `num_joints` (required), `train_size`, `heatmap_size`, `sigma`, `flip_test`, `arch`, and
# `codec` (a dict merged into the one below, e.g. dict(type='UDPHeatmap') or
# dict(unbiased=True)). Values written '${...}' are references, resolved
# after the configs are merged (customkpt/engine/references.py).
train_size = (192, 256)                # network input (w, h)
heatmap_size = '${(train_size[0] // 4, train_size[1] // 4)}'   # (w, h)
sigma = 2.0                            # heatmap Gaussian, heatmap pixels
flip_test = True                       # average with the mirrored crop at test time
arch = 'w32'                           # HRNet width: tiny, w18, w32, w48
widths = dict(tiny=16, w18=18, w32=32, w48=48)

# The model's codec also encodes the training targets, and its type sets the
# crop convention of every TopdownAffine (UDPHeatmap: UDP, MSRAHeatmap: plain).
codec = dict(type='MSRAHeatmap', input_size='${train_size}', heatmap_size='${heatmap_size}',
             sigma='${sigma}')

model = dict(
    type='TopdownEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='HRNet', arch='${arch}'),
    head=dict(type='HeatmapHead', in_channels='${widths[arch]}', out_channels='${num_joints}',
              loss=dict(type='KeypointMSELoss', use_target_weight=True), decoder='${codec}'),
    test_cfg=dict(flip_test='${flip_test}', shift_heatmap=True))
