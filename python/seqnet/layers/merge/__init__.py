"""Merge layers (``seqnet.layers.merge``, the Keras 2.2 module path) and their functional helpers."""
from seqnet.layers.merge.elementwise import (Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract, add,
                                             average, concatenate, maximum, minimum, multiply, subtract)
from seqnet.layers.merge.dot import Dot, dot

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]
__all__ += ["Dot", "dot"]
