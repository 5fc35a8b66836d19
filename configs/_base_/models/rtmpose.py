# RTMPose top-down model: CSPNeXt backbone -> RTMCC head (SimCC vectors). Set
# its knobs at the top of a config: `num_joints` (required), `train_size`,
# `rtmpose_size` ('t', 's', 'm' or 'l'), `flip_test`, `simcc_split_ratio`, `simcc_sigma`
# (None: scaled from the published 192x256 value to `train_size`), and
# `codec` (a dict merged into the one below). Values written '${...}' are
# references, resolved after the configs are merged.
train_size = (192, 256)                # network input (w, h); multiples of 32
rtmpose_size = 'm'
# size -> (deepen_factor, widen_factor, backbone output channels = 1024 x widen)
rtmpose_sizes = dict(t=(0.167, 0.375, 384), s=(0.33, 0.5, 512), m=(0.67, 0.75, 768),
                     l=(1.0, 1.0, 1024))
flip_test = True                       # average with the mirrored crop at test time
simcc_split_ratio = 2.0                # SimCC bins per crop pixel
simcc_sigma = None                     # (x, y) in bins; None: SimCCLabel.scaled_sigma(train_size)

# The model's codec also encodes the training targets (SimCC: plain crop
# convention, use_udp False).
codec = dict(type='SimCCLabel', input_size='${train_size}', sigma='${simcc_sigma}',
             simcc_split_ratio='${simcc_split_ratio}', normalize=False)

model = dict(
    type='TopdownEstimator',
    data_preprocessor=dict(type='PoseDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(type='CSPNeXt', arch='P5', expand_ratio=0.5, channel_attention=True,
                  deepen_factor='${rtmpose_sizes[rtmpose_size][0]}',
                  widen_factor='${rtmpose_sizes[rtmpose_size][1]}', out_indices=(4, ),
                  norm_cfg=dict(type='BN'), act_cfg=dict(type='SiLU')),
    head=dict(type='RTMCCHead', in_channels='${rtmpose_sizes[rtmpose_size][2]}',
              out_channels='${num_joints}', input_size='${train_size}',
              in_featuremap_size='${(train_size[0] // 32, train_size[1] // 32)}',
              simcc_split_ratio='${simcc_split_ratio}', final_layer_kernel_size=7,
              gau_cfg=dict(hidden_dims=256, s=128, expansion_factor=2, dropout_rate=0.0,
                           drop_path=0.0, act_fn='SiLU', use_rel_bias=False, pos_enc=False),
              loss=dict(type='KLDiscretLoss', use_target_weight=True, beta=10.0,
                        label_softmax=True),
              decoder='${codec}'),
    test_cfg=dict(flip_test='${flip_test}'))
