"""What profile_model returns: one row per layer (and for the loss, metrics, optimizer and
the rest of the step), and the table that prints them."""
import dataclasses


@dataclasses.dataclass
class ProfileRow:
    """One line of a profile. Times are milliseconds per training step (the mean over the
    profiled steps); FLOPs are per sample (None where unknown); GFLOP/s are FLOPs × batch
    size / time (None where FLOPs are unknown or 0, or the time is 0); ``gflops`` is both
    directions together.

    ``kind`` is 'layer', or 'loss', 'metrics', 'optimizer' and 'other' (the step's time
    outside the timed calls: Python between them, regularizers, constraints). ``calls`` is
    how many times the layer runs per step (a shared layer: once per call). ``fused_into``
    names the layer whose kernels ran this one (an Activation after a linear Dense or
    convolution), whose times include it; ``forward_in`` the layer whose forward wrote this one's
    output (a MaxPooling2D after a Conv2D's ReLU), whose forward time includes it; ``run_by`` the
    layer after it that ran it (an Embedding read by its recurrent layer), whose times include it."""

    name: str
    class_name: str
    kind: str
    output_shape: str
    calls: int
    forward_ms: float
    backward_ms: float
    share: float
    forward_flops: object = None
    backward_flops: object = None
    forward_gflops: object = None
    backward_gflops: object = None
    gflops: object = None
    fused_into: object = None
    forward_in: object = None
    run_by: object = None

    @property
    def total_ms(self):
        return self.forward_ms + self.backward_ms


@dataclasses.dataclass
class ModelProfile:
    """The result of `seqnet.profiler.profile_model`: ``rows`` (ProfileRow: the layers in
    plan order, then loss, metrics, optimizer and other), the mean and minimum step time
    in ms and each step's time (``step_times_ms``), and the machine's FMA peak measured
    with them (``peak_gflops``). ``summary()`` prints the table; ``str(profile)`` is the
    same table as text."""

    model_name: str
    training: bool
    batch_size: int
    steps: int
    warmup: int
    step_ms: float
    step_ms_min: float
    step_times_ms: list
    rows: list
    # The FP32 multiply-add peak of the engine's `peak_threads` threads, measured around the
    # profiled steps (GFLOP/s; None when profile_model ran with peak=False).
    peak_gflops: object = None
    peak_threads: object = None

    def peak_share(self, gflops):
        """`gflops` as a fraction of ``peak_gflops`` (None when either is unknown)."""
        if gflops is None or not self.peak_gflops:
            return None
        return gflops / self.peak_gflops

    @property
    def layer_rows(self):
        """The rows of the model's layers (without loss, metrics, optimizer, other)."""
        return [r for r in self.rows if r.kind == "layer"]

    def row(self, name):
        """The row named `name` (a layer name, or '(loss)', '(optimizer)', ...)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no row named {name!r}; rows: {[r.name for r in self.rows]}")

    def summary(self, line_length=None, print_fn=None):
        """Prints the table, one line per call of `print_fn` (default: print), like
        model.summary(); `line_length` sets the width (default: every column at full width, 140
        with the share-of-peak columns, 120 without; a narrower line drops those first)."""
        print_table(self, line_length=line_length, print_fn=print_fn)

    def __str__(self):
        lines = []
        print_table(self, print_fn=lines.append)
        return "\n".join(lines)


_COLUMNS = [("Layer (type)", 33, "<"), ("Output shape", 20, "<"), ("fwd ms", 8, ">"), ("bwd ms", 8, ">"),
            ("share", 7, ">"), ("fwd MFLOP", 10, ">"), ("bwd MFLOP", 10, ">"), ("fwd GFLOP/s", 12, ">"),
            ("bwd GFLOP/s", 12, ">")]
# With a measured peak, each direction's GFLOP/s as a share of it, when the line has room.
_PEAK_COLUMNS = [("fwd %peak", 10, ">"), ("bwd %peak", 10, ">")]
_MIN_NAME, _MIN_SHAPE = 20, 13
_MIN_LENGTH = _MIN_NAME + _MIN_SHAPE + sum(width for _, width, _ in _COLUMNS[2:])


def print_table(profile, line_length=None, print_fn=None):
    """Prints a ModelProfile as a fixed-width table (see ModelProfile.summary)."""
    print_fn = print_fn or print
    if line_length is not None and (isinstance(line_length, bool) or not isinstance(line_length, int)
                                    or line_length < _MIN_LENGTH):
        raise ValueError(f"summary: line_length must be an integer >= {_MIN_LENGTH}, got {line_length!r}")
    # The peak columns go first when the line is short of room for every column at full width.
    columns = list(_COLUMNS)
    if profile.peak_gflops and (line_length is None or line_length >= sum(w for _, w, _ in _COLUMNS + _PEAK_COLUMNS)):
        columns += _PEAK_COLUMNS
    widths = [width for _, width, _ in columns]
    line_length = line_length or sum(widths)
    # The name column takes what is left over, or gives first (down to its minimum), then the shape.
    widths[0] = max(_MIN_NAME, widths[0] + line_length - sum(widths))
    widths[1] = line_length - sum(widths) + widths[1]

    def print_row(fields):
        line = ""
        for (_, _, align), width, field in zip(columns, widths, fields):
            text = str(field)
            if len(text) > width - 1:
                text = text[:width - 1] if align == "<" else text[-(width - 1):]
            line += f"{text:<{width}}" if align == "<" else f"{text:>{width - 1}} "
        print_fn(line.rstrip())

    mode = "training step" if profile.training else "forward pass (inference)"
    print_fn(f"Profile of model '{profile.model_name}': {mode}, batch {profile.batch_size}, "
             f"{profile.step_ms:.3f} ms per step (mean of {profile.steps}, min {profile.step_ms_min:.3f}, "
             f"after {profile.warmup} warm-up)")
    print_fn("_" * line_length)
    print_row([name for name, _, _ in columns])
    print_fn("=" * line_length)
    for r in profile.rows:
        label = f"{r.name} ({r.class_name})" if r.class_name else r.name
        if r.calls > 1:
            label += f" x{r.calls}"
        flops = r.kind == "layer"
        print_row([label, r.output_shape, _ms(r.forward_ms), _ms(r.backward_ms) if profile.training else "",
                   f"{100 * r.share:.1f}%", _mflop(r.forward_flops) if flops else "",
                   _mflop(r.backward_flops) if flops and profile.training else "",
                   _number(r.forward_gflops), _number(r.backward_gflops),
                   _percent(profile.peak_share(r.forward_gflops)), _percent(profile.peak_share(r.backward_gflops))])
    print_fn("=" * line_length)
    layers = profile.layer_rows
    fwd = sum(r.forward_flops for r in layers if r.forward_flops is not None)
    bwd = sum(r.backward_flops for r in layers if r.backward_flops is not None)
    print_row(["Total", "", _ms(sum(r.forward_ms for r in profile.rows)),
               _ms(sum(r.backward_ms for r in profile.rows)) if profile.training else "",
               f"{100 * sum(r.share for r in profile.rows):.1f}%", _mflop(fwd),
               _mflop(bwd) if profile.training else "", "", ""])
    overall = _rate(fwd + bwd, profile.batch_size, profile.step_ms)
    print_fn(f"Whole step: {_number(overall)} GFLOP/s (the layers' FLOPs x batch / step time). MFLOP per "
             "sample, direct algorithm, 1 multiply-add = 2; (other): the step's time outside the timed calls.")
    if profile.peak_gflops:
        share = profile.peak_share(overall)
        print_fn(f"FMA peak measured around the steps: {_number(profile.peak_gflops)} GFLOP/s on "
                 f"{profile.peak_threads} thread(s){'' if share is None else f'; the whole step ran at {_percent(share)} of it'}.")
    unknown = [r.name for r in layers if r.forward_flops is None]
    if unknown:
        print_fn(f"FLOPs unknown (not counted): {', '.join(unknown)}")
    fused = [f"{r.name} in {r.fused_into}" for r in layers if r.fused_into]
    if fused:
        print_fn(f"Run inside the layer before them, whose times include theirs: {', '.join(fused)}")
    pooled = [f"{r.name} in {r.forward_in}" for r in layers if r.forward_in]
    if pooled:
        print_fn(f"Forward run inside the layer before them, whose forward times include theirs: {', '.join(pooled)}")
    by = [f"{r.name} in {r.run_by}" for r in layers if r.run_by]
    if by:
        print_fn(f"Run inside the layer after them, whose times include theirs: {', '.join(by)}")
    print_fn("_" * line_length)


def _rate(flops, batch, ms):
    if not flops or ms <= 0:
        return None
    return flops * batch / (ms * 1e-3) / 1e9


def _percent(share):
    return "" if share is None else f"{100 * share:.0f}%"


def _ms(value):
    return f"{value:.3f}"


def _mflop(flops):
    if flops is None:
        return "?"
    value = flops / 1e6
    return f"{value:,.0f}" if value >= 1000 else f"{value:.4g}"


def _number(value):
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
