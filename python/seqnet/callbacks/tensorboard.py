"""TensorBoard: write what Keras 2.2.4's TensorBoard callback writes — scalars, weight,
gradient and activation histograms, weight images, the model graph and projector
embeddings — as files TensorBoard reads, without depending on TensorFlow.

The event-file encoding is in tensorboard_events.py, the projector files in
tensorboard_projector.py, and what is read from the model (layer outputs, loss gradients)
in tensorboard_model.py.
"""
import os
import re
import warnings

import numpy as np

from seqnet import backend as K
from seqnet.callbacks import tensorboard_model, tensorboard_projector
from seqnet.callbacks.callback import Callback
from seqnet.callbacks.tensorboard_events import (EventFileWriter, crc32c, histogram_value, image_value,
                                                 masked_crc32c, text_tensor_value)

__all__ = ["TensorBoard", "EventFileWriter", "crc32c", "masked_crc32c"]

_NO_VALIDATION = "If printing histograms, validation_data must be provided, and cannot be a generator."
_NO_EMBEDDINGS_DATA = "To visualize embeddings, embeddings_data must be provided."
_MAX_IMAGES = 3  # tf.summary.image's max_outputs, as Keras 2.2.4 leaves it


class TensorBoard(Callback):
    """Writes TensorBoard logs into ``log_dir`` (Keras 2.2.4's arguments and behaviour).

    * Scalars: every value of the epoch logs (loss, metrics, ``val_*``, lr) at step
      ``epoch`` (``update_freq='epoch'``), or the batch logs per batch (``'batch'``) or
      every N samples (an integer) at step = samples seen.
    * ``histogram_freq=N`` (needs array validation data: ``validation_data`` arrays or
      ``validation_split``): every N epochs, for each batch of ``batch_size`` validation
      samples, one summary at step ``epoch`` with a histogram of every weight of every
      layer (tag ``weight.name`` with ':' replaced by '_', e.g. ``dense_1/kernel_0``), with
      ``write_grads`` the histogram of the gradient of the total loss with respect to each
      trainable weight on that batch (``dense_1/kernel_0_grad``), with ``write_images``
      the weights as grayscale images (Keras' reshaping: a 2-D kernel as one image with
      the longer side as width, a 3-D kernel (conv1D, or conv2D with one input channel) as
      one image per filter, a bias as a column; at most 3 images, tags
      ``dense_1/kernel_0/image/0``...), and a histogram of each layer's output
      (``dense_1_out``; ``_out_0``, ``_out_1``... for several outputs). All in inference
      mode, as Keras feeds learning_phase 0 with the validation data. Histograms use
      TensorFlow's default bucket limits. Without histogram_freq, write_grads and
      write_images write nothing (as in Keras 2.2.4).
    * ``write_graph``: the model's Keras JSON config (``model.to_json()``) as a summary
      with tag ``keras`` and plugin ``graph_keras_model`` at step 0, as tf-keras 2.x
      writes it: TensorBoard's Graphs tab shows it as the model's conceptual graph
      (TensorFlow's op graph, which Keras 2.2.4 writes, does not exist in seqnet).
    * ``embeddings_freq=N`` (needs ``embeddings_data``): every N epochs, the outputs of
      the layers named in ``embeddings_layer_names`` (default: every Embedding layer) on
      ``embeddings_data``, flattened per sample, are written to
      ``log_dir/<layer>_embedding.tsv``; ``log_dir/projector_config.pbtxt`` names each
      (tensor ``<layer>_embedding:0``, as Keras' variable) with its ``tensor_path`` and
      ``metadata_path`` from ``embeddings_metadata`` (a file name for every layer, or a
      dict by layer name; a relative path is written as given, and TensorBoard resolves
      it against log_dir; an existing file outside log_dir is copied into it, since
      TensorBoard refuses assets outside the log directory). TensorBoard's Projector tab
      reads them.
    """

    def __init__(self, log_dir="./logs", histogram_freq=0, batch_size=32, write_graph=True, write_grads=False,
                 write_images=False, embeddings_freq=0, embeddings_layer_names=None, embeddings_metadata=None,
                 embeddings_data=None, update_freq="epoch"):
        super().__init__()
        for name, value, low in (("histogram_freq", histogram_freq, 0), ("batch_size", batch_size, 1),
                                 ("embeddings_freq", embeddings_freq, 0)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                kind = "a positive" if low else "a non-negative"
                raise ValueError(f"TensorBoard: {name} must be {kind} integer, got {value!r}")
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool)
                                                     or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, "
                             f"got {update_freq!r}")
        if embeddings_freq and embeddings_data is None:
            raise ValueError(_NO_EMBEDDINGS_DATA)
        if isinstance(embeddings_layer_names, str):
            embeddings_layer_names = [embeddings_layer_names]
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, os.PathLike, dict)):
            raise ValueError("TensorBoard: embeddings_metadata must be a file name or a dict {layer name: file "
                             f"name}}, got {type(embeddings_metadata).__name__}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.batch_size = int(batch_size)
        self.write_graph = write_graph
        self.write_grads = write_grads
        self.write_images = write_images
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_layer_names = embeddings_layer_names
        self.embeddings_metadata = embeddings_metadata or {}
        self.embeddings_data = embeddings_data
        self.update_freq = update_freq
        self.writer = None
        self.samples_seen = 0
        self.samples_seen_at_last_write = 0
        self._graph_pending = False
        self._projected = None
        self._embedding_inputs = None

    # ---- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if self.histogram_freq and not self.validation_data:
            raise ValueError(_NO_VALIDATION)
        if self.embeddings_freq:
            self._projected, self._embedding_inputs = self._projected_layers(), None
        if self.writer is None:
            self.writer = EventFileWriter(self.log_dir)
            self._graph_pending = bool(self.write_graph)
        self._write_graph()

    def on_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self.writer is None:
            return
        logs = logs or {}
        self.samples_seen += logs.get("size", 1)
        if self.update_freq == "batch" or self.samples_seen - self.samples_seen_at_last_write >= self.update_freq:
            self._write_scalars({"batch_" + k: v for k, v in logs.items() if k not in ("batch", "size")},
                                self.samples_seen)
            self.samples_seen_at_last_write = self.samples_seen

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:
            self.writer = EventFileWriter(self.log_dir)
            self._graph_pending = bool(self.write_graph)
        self._write_graph()
        if self.histogram_freq:
            if not self.validation_data:
                raise ValueError(_NO_VALIDATION)
            if epoch % self.histogram_freq == 0:
                self._write_histograms(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._write_embeddings()
        step = epoch if self.update_freq == "epoch" else self.samples_seen
        self._write_scalars({k: v for k, v in (logs or {}).items() if k not in ("batch", "size")}, step)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # ---- scalars -----------------------------------------------------------------------------
    def _write_scalars(self, values, step):
        for name, value in values.items():
            try:
                self.writer.add_scalar(name, float(value), step)
            except (TypeError, ValueError):
                continue  # non-numeric log entries are not scalars
        self.writer.flush()

    # ---- graph -------------------------------------------------------------------------------
    def _write_graph(self):
        if not self._graph_pending or self.model is None or not getattr(self.model, "built", False):
            return
        self._graph_pending = False
        try:
            config = self.model.to_json()
        except Exception as e:  # a model that cannot be serialized has no graph to show
            warnings.warn(f"TensorBoard: the model's config could not be serialized ({e}); no graph written.",
                          UserWarning, stacklevel=3)
            return
        self.writer.add_summary([text_tensor_value("keras", config, "graph_keras_model", b"1")], 0)
        self.writer.flush()

    # ---- histograms and images ---------------------------------------------------------------
    def _write_histograms(self, epoch):
        model = self.model
        n_in, n_out = len(model.inputs), len(model.outputs)
        data = list(self.validation_data)
        xs, ys = data[:n_in], data[n_in:n_in + n_out]
        ws = data[n_in + n_out:n_in + 2 * n_out] if len(data) >= n_in + 2 * n_out else None
        if self.write_grads and len(ys) != n_out:
            raise ValueError(f"TensorBoard: validation_data holds {len(data)} arrays; expected the model's "
                             f"{n_in} input(s), {n_out} target(s) and sample weights")
        layers = model.layers
        fixed = {id(layer): self._weight_summaries(layer) for layer in layers}
        outputs = {id(layer): slots for layer, slots in tensorboard_model.layer_outputs(model)}
        n = len(xs[0])
        for start in range(0, n, self.batch_size):
            end = min(start + self.batch_size, n)
            bx = [_rows(a, start, end) for a in xs]
            grads = {}
            if self.write_grads:
                values, grads = tensorboard_model.loss_gradients(
                    model, bx, [_rows(a, start, end, np.float32) for a in ys],
                    None if ws is None else [_rows(a, start, end, np.float32) for a in ws])
            else:
                values = tensorboard_model.forward(model, bx)
            summary = []
            for layer in layers:
                trainable = {id(w) for w in layer.trainable_weights}
                for w, (tag, hist, images) in zip(layer.weights, fixed[id(layer)]):
                    summary.append(hist)
                    if self.write_grads and id(w) in trainable and id(w) in grads:
                        summary.append(histogram_value(tag + "_grad", grads[id(w)]))
                    summary.extend(images)
                slots = outputs.get(id(layer))
                if slots is not None:
                    if len(slots) == 1:
                        summary.append(histogram_value(f"{layer.name}_out", values[slots[0]]))
                    else:
                        summary.extend(histogram_value(f"{layer.name}_out_{i}", values[s])
                                       for i, s in enumerate(slots))
            self.writer.add_summary(summary, epoch)
        self.writer.flush()

    def _weight_summaries(self, layer):
        """[(tag, encoded histogram, [encoded images])] per weight of `layer`: the weights do
        not change while the validation batches run, so these are computed once."""
        out = []
        for w in layer.weights:
            tag = w.name.replace(":", "_")
            value = np.asarray(w.value)
            images = []
            if self.write_images:
                stack = weight_images(value, K.image_data_format())
                if stack is not None:
                    images = [image_value(f"{tag}/image/{i}", to_uint8(img))
                              for i, img in enumerate(stack[:_MAX_IMAGES])]
            out.append((tag, histogram_value(tag, value), images))
        return out

    # ---- embeddings --------------------------------------------------------------------------
    def _projected_layers(self):
        """The layers whose outputs are projected, in model order (Keras 2.2.4: the named
        ones, or every Embedding layer)."""
        layers = self.model.layers
        names = list(self.embeddings_layer_names or [])
        if names:
            known = {layer.name for layer in layers}
            unknown = [n for n in names if n not in known]
            if unknown:
                raise ValueError(f"TensorBoard: embeddings_layer_names {unknown} name no layer of the model "
                                 f"(layers: {sorted(known)})")
        else:
            names = [layer.name for layer in layers if type(layer).__name__ == "Embedding"]
            if not names:
                raise ValueError("TensorBoard: embeddings_freq > 0 but the model has no Embedding layer; name the "
                                 "layers to project with embeddings_layer_names")
        projected = [layer for layer in layers if layer.name in names]
        metadata = self.embeddings_metadata
        if isinstance(metadata, (str, os.PathLike)):
            metadata = {layer.name: metadata for layer in projected}
        extra = sorted(set(metadata) - {layer.name for layer in projected})
        if extra:
            raise ValueError(f"TensorBoard: embeddings_metadata has entries for {extra}, which are not projected "
                             f"(projected layers: {[layer.name for layer in projected]})")
        self._metadata_paths = tensorboard_projector.metadata_paths(
            self.log_dir, [layer.name for layer in projected], metadata)
        return projected

    def _write_embeddings(self):
        model = self.model
        if self._projected is None:
            self._projected = self._projected_layers()
        if self._embedding_inputs is None:
            self._embedding_inputs = tensorboard_model.standardize_inputs(model, self.embeddings_data)
        xs = self._embedding_inputs
        slots = {id(layer): s for layer, s in tensorboard_model.layer_outputs(model)}
        for layer in self._projected:
            found = slots.get(id(layer))
            if found is None or len(found) != 1:
                raise ValueError(f"TensorBoard: layer '{layer.name}' has no single output in the model (it is "
                                 "called several times, or returns several tensors); it cannot be projected")
        n = len(xs[0])
        chunks = {id(layer): [] for layer in self._projected}
        for start in range(0, n, self.batch_size):
            end = min(start + self.batch_size, n)
            values = tensorboard_model.forward(model, [_rows(a, start, end) for a in xs])
            for layer in self._projected:
                out = values[slots[id(layer)][0]]
                chunks[id(layer)].append(np.array(out, dtype=np.float32).reshape(end - start, -1))
        entries = []
        for layer in self._projected:
            vectors = np.concatenate(chunks[id(layer)], axis=0)
            file_name = re.sub(r"[^\w.-]", "_", layer.name) + "_embedding.tsv"
            tensorboard_projector.write_tensor_tsv(os.path.join(self.log_dir, file_name), vectors)
            entries.append({"tensor_name": layer.name + "_embedding:0", "tensor_path": file_name,
                            "tensor_shape": vectors.shape, "metadata_path": self._metadata_paths.get(layer.name)})
        tensorboard_projector.write_config(self.log_dir, entries)


def weight_images(value, data_format="channels_last"):
    """A weight as a stack of 2-D images (Keras 2.2.4's reshaping for image summaries), or
    None when Keras writes none: the value squeezed; 2-D: one image, transposed when it
    has more rows than columns; 3-D: one image per entry of the last axis with
    channels_last (the first axis otherwise); 1-D: one column image."""
    w = np.squeeze(np.asarray(value))
    if w.size == 0:
        return None
    if w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        return w[np.newaxis]
    if w.ndim == 3:
        return np.transpose(w, (2, 0, 1)) if data_format == "channels_last" else w
    if w.ndim == 1:
        return w.reshape(1, -1, 1)
    return None


def to_uint8(image):
    """A float image as 8-bit gray, as TensorFlow's image summary scales it: all values
    >= 0: v * 255 / max; otherwise v * 127 / max(|min|, |max|) + 128 (scale 0 when that
    maximum is below 1e-6), computed in float32 and truncated; NaN and infinity become 255."""
    img = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(img)
    vals = img[finite]
    lo = float(vals.min()) if vals.size else np.inf
    hi = float(vals.max()) if vals.size else -np.inf
    if lo < 0:
        peak = max(abs(lo), abs(hi))
        scale, offset = (np.float32(0.0) if peak < 1e-6 else np.float32(127.0) / np.float32(peak)), np.float32(128.0)
    else:
        scale, offset = (np.float32(0.0) if hi < 1e-6 else np.float32(255.0) / np.float32(hi)), np.float32(0.0)
    out = np.full(img.shape, 255, dtype=np.uint8)
    out[finite] = (img[finite] * scale + offset).astype(np.uint8)
    return out


def _rows(a, start, end, dtype=None):
    rows = a[start:end]
    if isinstance(rows, np.ndarray) and (dtype is None or rows.dtype == dtype):
        return rows if rows.flags.c_contiguous else np.ascontiguousarray(rows)
    return np.ascontiguousarray(rows, dtype=dtype or np.float32)
