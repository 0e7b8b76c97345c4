"""Build the small digits data set that ships inside seqnet.

Run by hand (it needs scikit-learn, which is not a seqnet dependency):

    /work/peers/bin/python tools/make_digits.py

Source: scikit-learn's bundled copy (``sklearn.datasets.load_digits``, no
download) of the test partition (``optdigits.tes``, 1797 images) of the UCI ML
"Optical Recognition of Handwritten Digits" data set, E. Alpaydin and
C. Kaynak, 1998, https://doi.org/10.24432/C50P49, licensed CC BY 4.0 by the
UCI Machine Learning Repository. See DIGITS_LICENSE.txt next to the output.

Output: python/seqnet/datasets/data/digits.npz (np.savez_compressed) with
    x  uint8 (1797, 8, 8), values 0..16 as in the original
    y  uint8 (1797,),      labels 0..9
in scikit-learn's order.
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "python", "seqnet", "datasets", "data")

LICENSE_TEXT = """\
digits.npz -- handwritten digits, 8x8, shipped with seqnet
===========================================================

Contents
  x  uint8 array (1797, 8, 8): pixel block counts, integers 0..16
  y  uint8 array (1797,):      digit labels 0..9
  Order is that of scikit-learn's sklearn.datasets.load_digits().

Source
  UCI Machine Learning Repository, data set 80:
  "Optical Recognition of Handwritten Digits"
  Creators: E. Alpaydin, C. Kaynak (Department of Computer Engineering,
  Bogazici University, Istanbul, Turkey), donated 30 June 1998.
  https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits
  DOI: https://doi.org/10.24432/C50P49

  These 1797 rows are the writer-independent test partition (optdigits.tes)
  of that data set, taken from the copy bundled with scikit-learn
  (sklearn/datasets/data/digits.csv.gz, loaded by load_digits). 32x32
  bitmaps produced with NIST preprocessing programs were divided into 4x4
  blocks and the "on" pixels in each block counted, giving 8x8 images of
  integers 0..16. seqnet changed only the storage format (uint8 arrays in a
  compressed .npz); no values were modified.

Citation
  Alpaydin, E. and Kaynak, C. (1998). Optical Recognition of Handwritten
  Digits [Dataset]. UCI Machine Learning Repository.
  https://doi.org/10.24432/C50P49

  Related papers:
  C. Kaynak (1995). Methods of Combining Multiple Classifiers and Their
  Applications to Handwritten Digit Recognition. MSc Thesis, Institute of
  Graduate Studies in Science and Engineering, Bogazici University.
  E. Alpaydin, C. Kaynak (1998). Cascading Classifiers. Kybernetika.

Licence
  The UCI Machine Learning Repository distributes this data set under the
  Creative Commons Attribution 4.0 International licence (CC BY 4.0):
  https://creativecommons.org/licenses/by/4.0/
  Redistribution and adaptation are permitted provided that the creators are
  credited as above and changes are indicated. seqnet's own software licence
  does not apply to this data.
"""


def main():
    bunch = load_digits()
    images = bunch.images  # float64 (1797, 8, 8)
    target = bunch.target
    if images.shape != (1797, 8, 8) or target.shape != (1797,):
        sys.exit("unexpected shapes %r %r" % (images.shape, target.shape))
    x = images.astype(np.uint8)
    y = target.astype(np.uint8)
    # the conversion must be exact: integer values 0..16 and labels 0..9
    assert np.array_equal(x.astype(np.float64), images), "non-integer pixels"
    assert np.array_equal(y.astype(target.dtype), target)
    assert x.min() == 0 and x.max() == 16, (x.min(), x.max())
    assert set(np.unique(y).tolist()) == set(range(10))

    os.makedirs(OUT_DIR, exist_ok=True)
    out = os.path.join(OUT_DIR, "digits.npz")
    np.savez_compressed(out, x=x, y=y)
    with open(os.path.join(OUT_DIR, "DIGITS_LICENSE.txt"), "w") as f:
        f.write(LICENSE_TEXT)

    with np.load(out) as d:
        assert d["x"].dtype == np.uint8 and d["x"].shape == (1797, 8, 8)
        assert d["y"].dtype == np.uint8 and d["y"].shape == (1797,)
        assert np.array_equal(d["x"], x) and np.array_equal(d["y"], y)
    print("wrote %s (%d bytes): x %s %s, y %s %s, class counts %s" % (
        out, os.path.getsize(out), x.shape, x.dtype, y.shape, y.dtype,
        np.bincount(y).tolist()))


if __name__ == "__main__":
    main()
