# RTMPose-m, otherwise configs/rtmpose_s_openfield_mouse.py.
_base_ = ['rtmpose_s_openfield_mouse.py']

rtmpose_size = 'm'
