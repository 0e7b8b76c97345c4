"""Utilities (``seqnet.utils``)."""
from seqnet.random_state import set_random_seed
from seqnet.utils import data_utils, file_utils, generic_utils, io_utils, layer_utils, np_utils, vis_utils
from seqnet.utils.file_utils import get_file
from seqnet.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence
from seqnet.utils.generic_utils import (CustomObjectScope, Progbar, custom_object_scope, deserialize_keras_object,
                                        get_custom_objects, serialize_keras_object)
from seqnet.utils.io_utils import HDF5Matrix
from seqnet.utils.multi_gpu_utils import multi_gpu_model
from seqnet.utils.layer_utils import get_source_inputs, print_summary
from seqnet.utils.np_utils import normalize, to_categorical
from seqnet.utils.vis_utils import model_to_dot, plot_model

__all__ = ["set_random_seed", "to_categorical", "normalize", "Progbar", "Sequence", "OrderedEnqueuer",
           "GeneratorEnqueuer", "get_file", "HDF5Matrix", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects", "serialize_keras_object", "deserialize_keras_object", "data_utils", "file_utils",
           "generic_utils", "io_utils", "np_utils", "print_summary", "plot_model", "model_to_dot",
           "layer_utils", "vis_utils", "multi_gpu_model", "get_source_inputs"]
