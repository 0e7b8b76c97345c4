"""TensorBoard projector files without TensorFlow: ``projector_config.pbtxt`` (a text
``ProjectorConfig``, tensorboard/plugins/projector/projector_config.proto) whose embeddings
point with ``tensor_path`` to TSV files of vectors, which the projector plugin reads
(``_read_tensor_tsv_file``: one row per line, tab-separated floats)."""
import os
import shutil

import numpy as np

CONFIG_NAME = "projector_config.pbtxt"


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_config(log_dir, embeddings):
    """Writes ``log_dir/projector_config.pbtxt``; `embeddings` is a list of dicts with
    tensor_name, tensor_path, tensor_shape (rows, columns) and optionally metadata_path."""
    lines = []
    for e in embeddings:
        lines.append("embeddings {")
        lines.append(f"  tensor_name: {_quote(e['tensor_name'])}")
        if e.get("metadata_path"):
            lines.append(f"  metadata_path: {_quote(e['metadata_path'])}")
        for size in e["tensor_shape"]:
            lines.append(f"  tensor_shape: {int(size)}")
        lines.append(f"  tensor_path: {_quote(e['tensor_path'])}")
        lines.append("}")
    _write_atomically(os.path.join(log_dir, CONFIG_NAME), "\n".join(lines) + "\n")


def write_tensor_tsv(path, vectors):
    """One row per line, values tab-separated, float32 written with 9 significant digits
    (read back to the same float32)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    rows = ["\t".join(format(float(v), ".9g") for v in row) for row in vectors.reshape(len(vectors), -1)]
    _write_atomically(path, "".join(r + "\n" for r in rows))


def metadata_paths(log_dir, layer_names, metadata):
    """{layer name: metadata_path as written to the config}. A relative path is written as
    given (TensorBoard resolves it against the log directory, as for Keras 2.2.4); an
    absolute path inside log_dir is made relative; an existing file outside log_dir is
    copied into it (TensorBoard refuses assets outside the log directory)."""
    log_dir = os.path.abspath(log_dir)
    os.makedirs(log_dir, exist_ok=True)
    copies = {}
    result = {}
    for name in layer_names:
        path = metadata.get(name)
        if path is None:
            continue
        path = os.fspath(path)
        if not os.path.isabs(path):
            result[name] = path
            continue
        real = os.path.realpath(path)
        if os.path.commonpath([os.path.realpath(log_dir), real]) == os.path.realpath(log_dir):
            result[name] = os.path.relpath(real, os.path.realpath(log_dir))
        elif os.path.isfile(real):
            if real not in copies:
                base, taken = os.path.basename(real), set(copies.values())
                candidate, i = base, 1
                while candidate in taken:
                    candidate, i = f"{i}_{base}", i + 1
                shutil.copyfile(real, os.path.join(log_dir, candidate))
                copies[real] = candidate
            result[name] = copies[real]
        else:
            result[name] = path
    return result


def _write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)
