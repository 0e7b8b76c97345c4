"""The 8x8 handwritten digits, shipped inside the package (no download).

1,797 grey-scale images of the digits 0-9, 8x8 pixels with values 0..16: the test part
of the UCI "Optical Recognition of Handwritten Digits" data set (Alpaydin & Kaynak,
1998; CC BY 4.0; see data/DIGITS_LICENSE.txt), as bundled by scikit-learn.
"""
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")


def load_data(test_split=0.2):
    """Returns (x_train, y_train), (x_test, y_test): uint8 images (n, 8, 8) and labels (n,).

    A fixed shuffle (the same on every machine and run) followed by taking the last
    `test_split` fraction as the test set, so results are comparable between runs. The
    stored order groups samples by writer, hence the shuffle."""
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be in (0, 1), got {test_split!r}")
    with np.load(_PATH) as f:
        x, y = f["x"], f["y"]
    order = np.random.RandomState(8).permutation(len(x))  # legacy RandomState: stable forever
    x, y = x[order], y[order]
    split = int(round(len(x) * (1.0 - test_split)))
    return (x[:split], y[:split]), (x[split:], y[split:])
