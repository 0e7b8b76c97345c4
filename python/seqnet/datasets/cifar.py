"""What CIFAR-10 and CIFAR-100 share (``seqnet.datasets.cifar``, as Keras' module): reading
one pickled batch file, and laying the images out in the configured image data format."""
import numpy as np

from seqnet.backend import image_data_format
from seqnet.datasets._safe_load import safe_unpickle


def load_batch(fpath, label_key="labels"):
    """(data (n, 3, 32, 32) uint8, labels as stored, a list) of one CIFAR batch file.

    The file is unpickled by a restricted unpickler that accepts only arrays and plain
    data (ValueError otherwise), unlike Keras, which unpickles anything."""
    with open(fpath, "rb") as f:
        d = safe_unpickle(f, encoding="bytes")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = np.asarray(d["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def in_image_data_format(images):
    """(n, 3, 32, 32) images as (n, 32, 32, 3) under channels_last (the default)."""
    return images.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else images
