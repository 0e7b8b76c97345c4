"""Utilities (``seqnet.utils``)."""
from seqnet.random_state import set_random_seed
from seqnet.utils import data_utils, file_utils, generic_utils, np_utils
from seqnet.utils.file_utils import get_file
from seqnet.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence
from seqnet.utils.generic_utils import Progbar
from seqnet.utils.np_utils import normalize, to_categorical

__all__ = ["set_random_seed", "to_categorical", "normalize", "Progbar", "Sequence", "OrderedEnqueuer",
           "GeneratorEnqueuer", "get_file", "data_utils", "file_utils", "generic_utils", "np_utils"]
