"""ONNX export (``seqnet.onnx.export``): a trained model as an ONNX file for ONNX Runtime and
other inference engines.

Needs the ``onnx`` package (``pip install seqnet[onnx]``); importing seqnet or this module
does not import it. See docs/onnx.md for the layers it converts and its limits."""
import numbers
import os

from seqnet.engine.network import Network

__all__ = ["export"]

# Weights above this size go to a file beside the model (protobuf cannot hold 2 GiB).
EXTERNAL_DATA_BYTES = 1 << 30


def export(model, path, opset=None):
    """Writes `model` (a built Sequential or functional Model) to `path` as an ONNX model for
    inference, and returns the ``onnx.ModelProto``.

    Arguments:
        model: the model. Its weights are copied as they are now.
        path: file name (str or path-like) to write.
        opset: the ONNX opset version, 13 to 21 (default 17).

    The graph's inputs are named after the model's input layers and its outputs after its
    output layers (``model.input_names``, ``model.output_names``); the batch axis is dynamic
    ("batch"). Tensors are float32; an input that only Embedding layers read is int64 (an
    ``Input(dtype='int32')`` stays int32). The graph computes ``model.predict``: dropout and
    noise layers are the identity, BatchNormalization uses its moving statistics.

    Weights above 1 GiB in all are written to ``<path>.data`` beside the model (ONNX's
    external data; keep the two files together); the returned proto then refers to that file.

    Raises ImportError when ``onnx`` is missing; TypeError for a `model` or `path` of the
    wrong type; ValueError for a bad `opset`, an unbuilt model, and (naming the layer) for a
    layer or a use of it the export cannot write: a custom or Lambda layer, a mask read by a
    recurrent layer, a stateful recurrent layer, ``training=True`` in a call (docs/onnx.md).
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("seqnet.onnx.export needs the `onnx` package: pip install 'seqnet[onnx]' (from a "
                          "source checkout: pip install '.[onnx]'), or pip install onnx") from None
    from seqnet.onnx.exporter import DEFAULT_OPSET, OPSETS, build_model_proto
    if not isinstance(model, Network):
        raise TypeError(f"seqnet.onnx.export: model must be a seqnet Sequential or Model, got "
                         f"{type(model).__name__}")
    if not model.built or not model.outputs:
        raise ValueError(f"seqnet.onnx.export: model '{model.name}' is not built; give the first layer an "
                         "input_shape (or call model.build / fit) before exporting")
    if opset is None:
        opset = DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, numbers.Integral) or opset not in OPSETS:
        raise ValueError(f"seqnet.onnx.export: opset must be an integer from {OPSETS[0]} to {OPSETS[-1]}, "
                         f"got {opset!r}")
    opset = int(opset)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"seqnet.onnx.export: path must be a file name (str or os.PathLike), got "
                         f"{type(path).__name__}")
    proto = build_model_proto(onnx, model, opset)
    path = os.fspath(path)
    if sum(len(t.raw_data) for t in proto.graph.initializer) > EXTERNAL_DATA_BYTES:
        onnx.save(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location=os.path.basename(path) + ".data")
    else:
        onnx.save(proto, path)
    return proto
