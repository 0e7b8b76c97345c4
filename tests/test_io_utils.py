"""seqnet.utils.io_utils.HDF5Matrix: reads like the NumPy array it stands for (values
checked against the array written), lazily (only the rows asked for reach the
normalizer), with Keras 2.2.4's arguments."""
import h5py
import numpy as np
import pytest

import seqnet.utils
from seqnet.utils import io_utils
from seqnet.utils.io_utils import HDF5Matrix

DATA = np.arange(20 * 3 * 2, dtype=np.float32).reshape(20, 3, 2) * 0.5


@pytest.fixture
def path(tmp_path):
    filename = tmp_path / "data.h5"
    with h5py.File(filename, "w") as f:
        f.create_dataset("x", data=DATA)
        f.create_dataset("group/labels", data=np.arange(20, dtype=np.int64))
        f.create_dataset("scalar", data=3.0)
    return str(filename)


class Recorder:
    """A normalizer that remembers how many rows each read passed it."""

    def __init__(self):
        self.rows = []

    def __call__(self, block):
        self.rows.append(len(block))
        return block.astype(np.float64) / 2


def test_shape_dtype_len_and_exports(path):
    x = HDF5Matrix(path, "x")
    assert len(x) == 20 and x.shape == (20, 3, 2) and x.ndim == 3 and x.size == 120
    assert x.dtype == np.float32
    part = HDF5Matrix(path, "x", start=5, end=12)
    assert len(part) == 7 and part.shape == (7, 3, 2) and part.size == 42
    np.testing.assert_array_equal(np.asarray(part), DATA[5:12])
    labels = HDF5Matrix(path, "group/labels")
    assert labels.shape == (20,) and labels.dtype == np.int64
    assert seqnet.utils.HDF5Matrix is HDF5Matrix and seqnet.utils.io_utils is io_utils


INDICES = [
    ("int", 3), ("numpy_int", np.int64(6)), ("negative_int", -1),
    ("slice", slice(2, 5)), ("slice_open", slice(None, 3)), ("slice_to_end", slice(4, None)),
    ("slice_step", slice(1, 7, 2)), ("slice_reversed", slice(6, 1, -2)), ("slice_past_end", slice(3, 100)),
    ("slice_empty", slice(5, 2)), ("sorted_list", [0, 2, 5]), ("unsorted_list", [5, 0, 3]),
    ("repeated_list", [4, 1, 4, 4]), ("negative_list", [-1, 0]), ("array", np.array([6, 2, 1])),
    ("empty_list", []), ("bool_mask", np.arange(13) % 4 == 1),
    ("tuple", (slice(1, 4), 2, 0)), ("tuple_list", ([3, 0], slice(None), 1)), ("tuple_int", (2, 1)),
]


@pytest.mark.parametrize("name,key", INDICES, ids=[i[0] for i in INDICES])
def test_indexing_matches_numpy(path, name, key):
    start, end = 2, 15
    x = HDF5Matrix(path, "x", start=start, end=end)
    expected = DATA[start:end][key]
    got = x[key]
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_normalizer_sees_only_the_rows_read(path):
    recorder = Recorder()
    x = HDF5Matrix(path, "x", start=4, normalizer=recorder)
    assert recorder.rows == [1]  # the first row, for shape and dtype
    assert x.dtype == np.float64 and x.shape == (16, 3, 2)
    np.testing.assert_array_equal(x[[5, 0, 5, 2]], DATA[4:][[5, 0, 5, 2]] / 2)
    assert recorder.rows[-1] == 3  # three distinct rows, each read once
    np.testing.assert_array_equal(x[3:6], DATA[7:10] / 2)
    assert recorder.rows[-1] == 3
    np.testing.assert_array_equal(x[1], DATA[5] / 2)


def test_out_of_range_rows_are_index_errors(path):
    x = HDF5Matrix(path, "x", end=10)
    for key in (10, -11, [2, 10], np.array([0, -11])):
        with pytest.raises(IndexError):
            x[key]
    with pytest.raises(IndexError):
        x[np.array([1.5])]
    with pytest.raises(IndexError, match="mask"):
        x[np.ones(3, dtype=bool)]


def test_bad_arguments(path):
    with pytest.raises(KeyError, match="no dataset 'y'"):
        HDF5Matrix(path, "y")
    with pytest.raises(KeyError, match="group"):
        HDF5Matrix(path, "group")  # a group, not a dataset
    with pytest.raises(ValueError, match="scalar"):
        HDF5Matrix(path, "scalar")
    with pytest.raises(ValueError, match="start <= end"):
        HDF5Matrix(path, "x", start=5, end=2)
    with pytest.raises(ValueError, match="start <= end"):
        HDF5Matrix(path, "x", end=21)


def test_matrices_of_a_file_share_one_open_handle(path):
    a, b = HDF5Matrix(path, "x"), HDF5Matrix(path, "group/labels")
    assert a.data.file.id == b.data.file.id
    assert a.data.file.mode == "r"
