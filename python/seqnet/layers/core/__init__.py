"""Core layers (``seqnet.layers.core``, the Keras 2.2 module path)."""
from seqnet.engine.backend_op import BackendOp
from seqnet.layers.core.activation import Activation
from seqnet.layers.core.dense import Dense
from seqnet.layers.core.dropout import Dropout
from seqnet.layers.core.flatten import Flatten
from seqnet.layers.core.lambda_layer import Lambda
from seqnet.layers.core.masking import Masking
from seqnet.layers.core.reshape import Reshape
from seqnet.layers.core.permute import Permute
from seqnet.layers.core.repeat_vector import RepeatVector
from seqnet.layers.core.activity_regularization import ActivityRegularization
from seqnet.layers.core.spatial_dropout import SpatialDropout1D
from seqnet.layers.core.spatial_dropout import SpatialDropout2D
from seqnet.layers.core.spatial_dropout import SpatialDropout3D

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Lambda", "Masking", "Reshape", "Permute", "RepeatVector",
           "ActivityRegularization", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "BackendOp"]
