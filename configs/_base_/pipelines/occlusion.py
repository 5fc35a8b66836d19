# Occlusion augmentation (docs/occlusion.md): occluders cut from other
# training crops or drawn procedurally, pasted over the subject; then discs
# dropped around keypoints (PP-TinyPose's AID). A config inserts
# `occlusion` right after the crop (before any colour jitter, so that
# recolours them too). Knob: `occluder_scale`, the occluder's size range.
occluder_scale = (0.2, 0.5)
occlusion = [
    dict(type='RandomOccluder', prob=0.5, source='both', num_occluders=(1, 2),
         scale_range='${occluder_scale}'),
    dict(type='KeypointInfoDrop', prob=0.3, num_patch=1, offset_factor=0.05,
         radius_range=(0.1, 0.2)),
]
