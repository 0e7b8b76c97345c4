"""Sequence preprocessing (``seqnet.preprocessing.sequence``), Keras 2 semantics."""
import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) a list of sequences to one length: an array (n, maxlen, ...).

    ``padding``/``truncating`` 'pre' (default) work at the start of a sequence, 'post' at
    its end; ``maxlen`` defaults to the longest sequence; ``value`` fills the padding.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding type "{padding}" not understood (expected "pre" or "post")')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating type "{truncating}" not understood (expected "pre" or "post")')
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be iterable.")
    lengths, sample_shape = [], ()
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables. Found non-iterable: {s!r}")
        lengths.append(len(s))
        if len(s) and not sample_shape:
            sample_shape = np.asarray(s).shape[1:]
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be a non-negative integer or None, got {maxlen!r}")
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.object_)
    if isinstance(value, str) and dtype != object and not is_text:
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type {type(value)}; "
                         "use dtype=object for variable-length strings")
    x = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = _as_dtype(trunc, dtype, is_text, idx)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: shape of sample {trunc.shape[1:]} of sequence at position {idx} is "
                             f"different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x


def _as_dtype(values, dtype, is_text, idx):
    """The sequence at position `idx` as an array of `dtype`; text in a numeric dtype is a
    ValueError that says so (NumPy's own message quotes only the first bad string)."""
    raw = np.asarray(values)
    if not is_text and raw.dtype.kind in "USO":
        try:
            if raw.dtype.kind in "US":
                raise ValueError
            return np.asarray(values, dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError(f"pad_sequences: the sequence at position {idx} holds non-numeric values "
                             f"({raw.ravel()[:3].tolist()!r}...) but dtype is {np.dtype(dtype)}; pass "
                             "dtype=object (or a string dtype) to pad text") from None
    return np.asarray(values, dtype=dtype)
