# A CPU-sized version of hrnet_self5.py: a small HRNet at 128x96 that learns
# the synthetic self5 data in minutes on two CPU cores. The main job
# (`bash tools/run_main_job.sh`) trains it. Data and keypoints: hrnet_self5.py.
_base_ = ['hrnet_self5.py']

# ---------------------------------------------------------------- edit these
train_size = (96, 128)                 # network input (w, h); heatmaps a quarter of it
arch = 'tiny'                          # HRNet width: tiny, w18, w32, w48
max_epochs = 20
batch_size = 32
lr = 2e-3
val_interval = 5
lr_policy = 'cosine'
warmup_iters = 100
warmup_factor = 0.01
# ----------------------------------------------------------------------------
