# A CPU-sized version of openfield_mouse.py: HRNet `tiny` at the same
# 256x192 input. It trains in about 3 minutes on two CPU cores and runs video
# at tens of frames per second (docs/benchmarks.md).
#
# Starting from a checkpoint trained on another definition helps even when
# that data look nothing like the mouse: with the main job's self5 model,
#   python tools/train.py configs/openfield_mouse_cpu.py --cfg-options \
#       pretrained_checkpoint=work_dirs/main_job/train/epoch_20.pth
# (see docs/finetuning.md; the snout starts from self5's `head` channel).
_base_ = ['openfield_mouse.py']

# ---------------------------------------------------------------- edit these
arch = 'tiny'
pretrained_checkpoint = None           # e.g. work_dirs/main_job/train/epoch_20.pth
keypoint_map = dict(snout='head')      # mouse point -> checkpoint point
# ----------------------------------------------------------------------------

model = dict(
    # The definition is needed when init_weights() copies head channels by name.
    metainfo=dict(keypoint_names=['snout', 'leftear', 'rightear', 'tailbase']),
    pretrained=dict(checkpoint='${pretrained_checkpoint}', keypoint_map='${keypoint_map}'))
