"""Saving and loading models: Keras 2's HDF5 files and JSON configurations (``seqnet.saving``)."""
import sys as _sys

from seqnet.engine import saving_hooks as _saving_hooks
from seqnet.saving.errors import SavingError
from seqnet.saving.hdf5_format import load_model, load_weights, save_model, save_weights
from seqnet.saving.model_config import (functional_from_config, layer_from_config, model_from_config,
                                        model_from_json, model_to_json, sequential_from_config)

__all__ = ["SavingError", "save_model", "load_model", "save_weights", "load_weights", "model_from_config",
           "model_from_json"]

_saving_hooks.register(_sys.modules[__name__])
