"""Reading HDF5 datasets: rows in blocks of whole chunks, stored chunks copied."""
from __future__ import annotations

import numpy as np
import pytest

h5py = pytest.importorskip('h5py')

from customkpt.converters.hdf5 import read_rows  # noqa: E402

DATA = np.random.default_rng(1).integers(0, 255, (10, 9, 11, 3), dtype=np.uint8)
ROWS = [0, 2, 3, 7, 9]


@pytest.mark.parametrize('layout', [
    dict(chunks=(3, 4, 5, 1)),                      # stored chunks copied, edges cut
    dict(chunks=(3, 4, 5, 1), compression='gzip'),  # filtered: read through HDF5
    dict(chunks=(4, 9, 11, 3), shuffle=True),
    dict(),                                         # contiguous
])
@pytest.mark.parametrize('block_bytes', [1, 700, 10 ** 9])
def test_read_rows_gives_the_rows_asked_for(tmp_path, layout, block_bytes):
    with h5py.File(tmp_path / 'd.h5', 'w') as fh:
        ds = fh.create_dataset('images', data=DATA, **layout)
        got = list(read_rows(ds, ROWS, block_bytes=block_bytes))
        assert [r for r, _ in got] == ROWS
        for r, img in got:
            assert img.dtype == np.uint8 and np.array_equal(img, DATA[r])
        assert list(read_rows(ds, [])) == []


def test_unwritten_chunks_and_wider_values_are_read_through_hdf5(tmp_path):
    with h5py.File(tmp_path / 'd.h5', 'w') as fh:
        part = fh.create_dataset('part', shape=DATA.shape, dtype=np.uint8, chunks=(3, 9, 11, 3),
                                 fillvalue=7)
        part[:3] = DATA[:3]                          # rows 3.. are never written
        got = dict(read_rows(part, [1, 5]))
        assert np.array_equal(got[1], DATA[1]) and (got[5] == 7).all()
        values = DATA.astype(np.uint16) * 200
        wide = fh.create_dataset('wide', data=values, dtype='>u2', chunks=(3, 4, 5, 1))
        got = dict(read_rows(wide, [4]))
        assert np.array_equal(got[4], values[4])         # stored big-endian, read as values


def test_blocks_are_whole_chunks_and_skipped_without_a_wanted_row(tmp_path, monkeypatch):
    data = np.arange(12 * 2 * 2, dtype=np.uint8).reshape(12, 2, 2)
    reads = []
    read = h5py.Dataset.__getitem__

    def spy(self, key):
        reads.append((key.start, key.stop))
        return read(self, key)

    with h5py.File(tmp_path / 'd.h5', 'w') as fh:
        ds = fh.create_dataset('images', data=data, chunks=(4, 2, 2), compression='gzip')
        monkeypatch.setattr(h5py.Dataset, '__getitem__', spy)
        # 5 rows' worth per block -> one chunk of 4 rows; rows 4..7 hold none asked for
        got = dict(read_rows(ds, [1, 3, 8, 11], block_bytes=5 * 4))
    assert reads == [(0, 4), (8, 12)]
    assert all(np.array_equal(got[r], data[r]) for r in (1, 3, 8, 11))
