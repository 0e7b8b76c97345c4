"""``TimeseriesGenerator`` (``seqnet.preprocessing.sequence``): batches of windows over a
time series, as Keras 2's."""
import json
import numbers

import numpy as np

from seqnet.utils.data_utils import Sequence

__all__ = ["TimeseriesGenerator", "timeseries_generator_from_json"]


class TimeseriesGenerator(Sequence):
    """Batches of (windows of `data`, `targets`) for training on a time series.

    Sample `row` is ``data[row - length:row:sampling_rate]`` (reversed in time if
    `reverse`) with target ``targets[row]``; rows run from ``start_index + length`` to
    `end_index` (default ``len(data) - 1``) every `stride` steps, `batch_size` at a time.
    With `shuffle`, each batch is `batch_size` rows drawn with replacement from NumPy's
    global random state, as in Keras. `data` and `targets` are anything indexable by
    integers and slices (lists, arrays) of the same length. A `seqnet.utils.Sequence`.

    Differences from tf-keras: arguments are checked when the generator is built
    (tf-keras accepts, for instance, an `end_index` past the data and fails in the middle
    of an epoch), an index outside ``[0, len(self))`` is an IndexError (tf-keras returns
    an empty or misplaced batch), and `get_config` stores the `start_index` that was
    given, so that `timeseries_generator_from_json` rebuilds the same generator (tf-keras
    stores ``start_index + length``, shifting the rebuilt one by `length`).
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128):
        if len(data) != len(targets):
            raise ValueError(f"TimeseriesGenerator: data and targets have to be of same length. Data length is "
                             f"{len(data)} while target length is {len(targets)}")
        for name, value, low in (("length", length, 1), ("sampling_rate", sampling_rate, 1), ("stride", stride, 1),
                                 ("start_index", start_index, 0), ("batch_size", batch_size, 1)):
            _check_int(name, value, low)
        if end_index is None:
            end_index = len(data) - 1
        else:
            _check_int("end_index", end_index, 0)
            if end_index > len(data) - 1:
                raise ValueError(f"TimeseriesGenerator: `end_index`={end_index} is past the last timestep of the "
                                 f"data ({len(data) - 1}); expected at most len(data) - 1")
        self.data = data
        self.targets = targets
        self.length = int(length)
        self.sampling_rate = int(sampling_rate)
        self.stride = int(stride)
        self.start_index = int(start_index) + self.length
        self.end_index = int(end_index)
        self.shuffle = shuffle
        self.reverse = reverse
        self.batch_size = int(batch_size)
        if self.start_index > self.end_index:
            raise ValueError(f"TimeseriesGenerator: `start_index+length={self.start_index} > end_index="
                             f"{self.end_index}` is disallowed, as no part of the sequence would be left to be used "
                             "as current step")

    def __len__(self):
        return (self.end_index - self.start_index + self.batch_size * self.stride) // (self.batch_size * self.stride)

    def __getitem__(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(self):
            raise IndexError(f"TimeseriesGenerator: batch index {index!r} is out of range; the generator has "
                             f"{len(self)} batches")
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            i = self.start_index + self.batch_size * self.stride * int(index)
            rows = np.arange(i, min(i + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        if self.reverse:
            return samples[:, ::-1, ...], targets
        return samples, targets

    def get_config(self):
        """The arguments as a dict (`data` and `targets` as JSON strings)."""
        return {"data": _json_of("Data", self.data), "targets": _json_of("Targets", self.targets),
                "length": self.length, "sampling_rate": self.sampling_rate, "stride": self.stride,
                "start_index": self.start_index - self.length, "end_index": self.end_index,
                "shuffle": self.shuffle, "reverse": self.reverse, "batch_size": self.batch_size}

    def to_json(self, **kwargs):
        """The generator as a JSON string (`kwargs` go to `json.dumps`); read it back with
        `timeseries_generator_from_json`."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def timeseries_generator_from_json(json_string):
    """A TimeseriesGenerator from `TimeseriesGenerator.to_json()` (plain data: nothing is
    executed); `data` and `targets` come back as lists."""
    loaded = json.loads(json_string)
    config = loaded.get("config") if isinstance(loaded, dict) else None
    if not isinstance(config, dict):
        raise ValueError("timeseries_generator_from_json: not a TimeseriesGenerator JSON string")
    config = dict(config)
    config["data"] = json.loads(config.pop("data"))
    config["targets"] = json.loads(config.pop("targets"))
    return TimeseriesGenerator(**config)


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"TimeseriesGenerator: `{name}` must be an integer >= {low}, got {value!r}")


def _json_of(what, values):
    if isinstance(values, np.ndarray):
        values = values.tolist()
    try:
        return json.dumps(values)
    except TypeError as exc:
        raise TypeError(f"TimeseriesGenerator.get_config: {what.lower()} are not JSON serializable: {exc}") from exc
