# RTMPose-s, otherwise configs/rtmpose_m_self5.py.
_base_ = ['rtmpose_m_self5.py']

rtmpose_size = 's'
