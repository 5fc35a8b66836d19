# A CPU-sized RTMPose: RTMPose-t at 128x96 on the synthetic self5 data (data
# and keypoints: configs/_base_/datasets/self5.py). Measured: at this 20-epoch
# budget it does not learn from random weights (AP 0.006; CSPNeXt learns slowly
# from scratch, docs/models.md): start it from an RTMPose checkpoint (load_from).
_base_ = ['rtmpose_m_self5.py']

# ---------------------------------------------------------------- edit these
rtmpose_size = 't'
train_size = (96, 128)                 # network input (w, h), multiples of 32
max_epochs = 20
stage2_num_epochs = 5
batch_size = 32
lr = 2e-3
val_interval = 5
warmup_iters = 100                     # about 2 epochs of 46 iterations
warmup_factor = 1e-2
# ----------------------------------------------------------------------------
