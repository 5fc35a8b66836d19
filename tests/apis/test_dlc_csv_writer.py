"""The video command's DeepLabCut CSV, byte for byte as it was written before
its header layout moved to :mod:`customkpt.converters.export_dlc`."""
from __future__ import annotations

import numpy as np

from customkpt.apis.writers import DlcCsvWriter


def _inst(tid, pts, scores):
    return dict(track_id=tid, keypoints=np.asarray(pts, float),
                keypoint_scores=np.asarray(scores, float))


def test_single_track_bytes(tmp_path):
    """Frames added out of order, a frame without the track, NaN and
    out-of-range scores, names that need CSV quoting."""
    w = DlcCsvWriter(tmp_path / 'a.csv', ['nose', 'left ear', 'tail,base'], scorer='me')
    w.add(dict(frame_idx=2, instances=[_inst(5, [[1.23456, 2.0], [np.nan, 3.5],
                                                 [-0.0004, 1e5]], [1.2, -0.5, np.nan])]))
    w.add(dict(frame_idx=0, instances=[_inst(5, [[0.1, 0.2], [10.0005, 20.0], [3, 4]],
                                             [0.123456, 0.99995, 0.5])]))
    w.add(dict(frame_idx=1, instances=[]))
    assert w.close().read_bytes() == (
        b'scorer,me,me,me,me,me,me,me,me,me\r\n'
        b'bodyparts,nose,nose,nose,left ear,left ear,left ear,"tail,base","tail,base",'
        b'"tail,base"\r\n'
        b'coords,x,y,likelihood,x,y,likelihood,x,y,likelihood\r\n'
        b'0,0.100,0.200,0.1235,10.001,20.000,1.0000,3.000,4.000,0.5000\r\n'
        b'1,,,,,,,,,\r\n'
        b'2,1.235,2.000,1.0000,,3.500,0.0000,-0.000,100000.000,\r\n')


def test_multi_track_bytes(tmp_path):
    w = DlcCsvWriter(tmp_path / 'b.csv', ['a', 'b'])
    w.add(dict(frame_idx=0, instances=[_inst(3, [[1, 2], [3, 4]], [0.5, 0.25]),
                                       _inst(1, [[5, 6], [7, 8]], [1, 0])]))
    w.add(dict(frame_idx=1, instances=[_inst(3, [[1.5, 2.5], [3.5, 4.5]], [0.75, 0.125])]))
    cc = b',customkpt' * 12
    assert w.close().read_bytes() == (
        b'scorer' + cc + b'\r\n'
        b'individuals,track1,track1,track1,track1,track1,track1,'
        b'track3,track3,track3,track3,track3,track3\r\n'
        b'bodyparts,a,a,a,b,b,b,a,a,a,b,b,b\r\n'
        b'coords' + b',x,y,likelihood' * 4 + b'\r\n'
        b'0,5.000,6.000,1.0000,7.000,8.000,0.0000,1.000,2.000,0.5000,3.000,4.000,0.2500\r\n'
        b'1,,,,,,,1.500,2.500,0.7500,3.500,4.500,0.1250\r\n')


def test_no_frames_bytes(tmp_path):
    assert DlcCsvWriter(tmp_path / 'c.csv', ['a']).close().read_bytes() == (
        b'scorer,customkpt,customkpt,customkpt\r\nbodyparts,a,a,a\r\ncoords,x,y,likelihood\r\n')
