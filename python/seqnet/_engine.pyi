"""Type stub of seqnet._engine, the native engine (C++ kernels with OpenMP and SIMD).

Every entry point checks dtype, C-contiguity, shape and writability of the arrays it is
given and raises ValueError naming the argument, the expected and the actual shape; array
arguments typed ``... | None`` are optional. Enum arguments take the members of the enums
below; a plain ``int`` (exactly an int, range-checked) is still accepted while callers
migrate, never a member of another enum. Written by cpp/bindings/make_stub.py; checked
against the module by tests/test_engine_enums.py.
"""
from typing import ClassVar, Union, overload

import numpy
import numpy.typing

F32Array = numpy.typing.NDArray[numpy.float32]
IndexArray = numpy.typing.NDArray[numpy.int32] | numpy.typing.NDArray[numpy.int64] | F32Array
U8Array = numpy.typing.NDArray[numpy.uint8]
I32Array = numpy.typing.NDArray[numpy.int32]
I64Array = numpy.typing.NDArray[numpy.int64]
# (batch, steps), time order, 0 = skip the step
SequenceMask = Union[numpy.typing.NDArray[numpy.bool_], numpy.typing.NDArray[numpy.uint8]]

class Activation:
    """Keras activations the kernels implement (names as in keras.activations).

    Members (value): linear (0), relu (1), sigmoid (2), hard_sigmoid (3), tanh (4), softmax (5),
    softplus (6), softsign (7), elu (8), selu (9), exponential (10), swish (11), gelu (12).
    """

    linear: ClassVar[Activation]
    relu: ClassVar[Activation]
    sigmoid: ClassVar[Activation]
    hard_sigmoid: ClassVar[Activation]
    tanh: ClassVar[Activation]
    softmax: ClassVar[Activation]
    softplus: ClassVar[Activation]
    softsign: ClassVar[Activation]
    elu: ClassVar[Activation]
    selu: ClassVar[Activation]
    exponential: ClassVar[Activation]
    swish: ClassVar[Activation]
    gelu: ClassVar[Activation]
    __members__: ClassVar[dict[str, Activation]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...


class Loss:
    """The built-in losses computed by _engine.loss (keras.losses names).

    Members (value): categorical_crossentropy (0), sparse_categorical_crossentropy (1),
    binary_crossentropy (2), mean_squared_error (3), mean_absolute_error (4).
    """

    categorical_crossentropy: ClassVar[Loss]
    sparse_categorical_crossentropy: ClassVar[Loss]
    binary_crossentropy: ClassVar[Loss]
    mean_squared_error: ClassVar[Loss]
    mean_absolute_error: ClassVar[Loss]
    __members__: ClassVar[dict[str, Loss]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...


class Accuracy:
    """The accuracies of _engine.accuracy_sum (keras.metrics names).

    Members (value): binary_accuracy (0), categorical_accuracy (1), sparse_categorical_accuracy (2).
    """

    binary_accuracy: ClassVar[Accuracy]
    categorical_accuracy: ClassVar[Accuracy]
    sparse_categorical_accuracy: ClassVar[Accuracy]
    __members__: ClassVar[dict[str, Accuracy]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...


class RnnCell:
    """The recurrent cells (Keras layer names).

    Members (value): SimpleRNN (0), GRU (1), LSTM (2).
    """

    SimpleRNN: ClassVar[RnnCell]
    GRU: ClassVar[RnnCell]
    LSTM: ClassVar[RnnCell]
    __members__: ClassVar[dict[str, RnnCell]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...


class Isa:
    """Instruction sets of the run-time dispatch (SEQNET_ISA values).

    Members (value): generic (0), avx2 (1), avx512 (2).
    """

    generic: ClassVar[Isa]
    avx2: ClassVar[Isa]
    avx512: ClassVar[Isa]
    __members__: ClassVar[dict[str, Isa]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...


def accuracy_sum(kind: Accuracy, y_true: F32Array, y_pred: F32Array, threshold: float = 0.5) -> float:
    ...

def activation_backward(act: Activation, x: F32Array | None, y: F32Array, dy: F32Array, dx: F32Array) -> None:
    ...

def activation_backward_needs_input(act: Activation) -> bool:
    """True when the activation's gradient needs its input (swish, gelu), not only its output."""

def activation_forward(act: Activation, x: F32Array, y: F32Array) -> None:
    ...

def active_isa() -> str:
    ...

def adadelta_update(
    params: F32Array,
    grads: F32Array,
    accumulators: F32Array,
    delta_accumulators: F32Array,
    lr: float,
    rho: float,
    epsilon: float,
) -> None:
    ...

def adagrad_update(
    params: F32Array,
    grads: F32Array,
    accumulators: F32Array,
    lr: float,
    epsilon: float,
) -> None:
    ...

def adam_update(
    params: F32Array,
    grads: F32Array,
    m: F32Array,
    v: F32Array,
    vhat: F32Array | None,
    lr_t: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    ...

def adamax_update(
    params: F32Array,
    grads: F32Array,
    m: F32Array,
    u: F32Array,
    lr_t: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
) -> None:
    ...

def add_activation_forward(act: Activation, xs: list, z: F32Array | None, y: F32Array) -> None:
    """y = act(xs[0] + xs[1] + ...) in one pass (the sum in input order), and z = the sum unless None: an
    Add merge with the elementwise Activation after it fused in.
    """

def amx_active() -> bool:
    """Whether GEMMs use the AMX tile unit now (available, isa avx512, not turned off)."""

def amx_available() -> bool:
    """Whether this CPU has AMX-BF16 and the OS granted this process the tile state."""

def amx_tile_product_ns() -> float:
    """Nanoseconds per bf16 tile product of a bare loop on this thread's core (0.0 without AMX): the tile
    unit's rate now, for benchmarks on shared hosts (about 16 cycles at full rate).
    """

def avg_pool3d_backward(
    dy: F32Array,
    dmid: F32Array,
    dx: F32Array,
    pool_size: typing.Annotated[list[int], "FixedSize(3)"],
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
) -> None:
    ...

def avg_pool3d_forward(
    x: F32Array,
    y: F32Array,
    mid: F32Array,
    pool_size: typing.Annotated[list[int], "FixedSize(3)"],
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
) -> None:
    ...

def avg_pool_backward(
    dy: F32Array,
    dx: F32Array,
    pool_size: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int],
) -> None:
    ...

def avg_pool_forward(
    x: F32Array,
    y: F32Array,
    pool_size: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int],
) -> None:
    ...

def batchnorm_backward(
    x: F32Array,
    dy: F32Array,
    gamma: F32Array | None,
    mean: F32Array,
    inv_std: F32Array,
    dx: F32Array | None,
    dgamma: F32Array | None,
    dbeta: F32Array | None,
    workspace: F32Array,
    axis: int,
    batch_stats: bool,
    relu_y: F32Array | None = None,
) -> None:
    """dx (may be dy itself), dgamma, dbeta (each optional) from dy and the forward's mean and inv_std;
    batch_stats: the forward used the batch's statistics; relu_y: the y of a forward with relu (dy is
    taken through that ReLU first).
    """

def batchnorm_forward_inference(
    x: F32Array,
    gamma: F32Array | None,
    beta: F32Array | None,
    moving_mean: F32Array,
    moving_variance: F32Array,
    y: F32Array,
    mean: F32Array | None,
    inv_std: F32Array | None,
    workspace: F32Array,
    axis: int,
    epsilon: float,
    relu: bool = False,
) -> None:
    """y = (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta (then y <= 0 ? 0 : y with
    relu); mean / inv_std (optional) receive what batchnorm_backward needs.
    """

def batchnorm_forward_training(
    x: F32Array,
    gamma: F32Array | None,
    beta: F32Array | None,
    y: F32Array,
    mean: F32Array,
    inv_std: F32Array,
    moving_mean: F32Array | None,
    moving_variance: F32Array | None,
    workspace: F32Array,
    axis: int,
    epsilon: float,
    momentum: float,
    relu: bool = False,
) -> None:
    """Batch statistics along `axis`, y = (x - mean) * inv_std * gamma + beta (then y <= 0 ? 0 : y with
    relu); writes mean and inv_std, and updates moving_mean / moving_variance (both or None) as Keras
    2.2.4 does.
    """

def batchnorm_workspace_size(shape: list, axis: int) -> int:
    """Floats of workspace the batchnorm_* kernels need for an input of `shape` normalised along `axis`."""

def cache_sizes() -> dict:
    """The data cache sizes in bytes (per core for l1d and l2) that the kernels block for."""

def clear_conv_algo_choices() -> None:
    """Forgets the measured choices (they are measured again)."""

def conv3d_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    col: F32Array | None,
    dw_partials: F32Array | None,
    unfold: F32Array | None,
    kernel_buffer: F32Array | None,
    dunfold: F32Array | None,
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    dilation_rate: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
    activation: Activation,
    dy_is_preactivation: bool,
) -> None:
    ...

def conv3d_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    col: F32Array | None,
    unfold: F32Array | None,
    kernel_buffer: F32Array | None,
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    dilation_rate: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
    activation: Activation,
) -> None:
    """y (n, od, oh, ow, f) = act(conv3d(x (n, d, h, w, c), kernel (kd, kh, kw, c, f)) + bias); pads =
    (front, top, left); workspaces sized by conv3d_workspace_sizes (unfold keeps the unfolded x for
    conv3d_backward).
    """

def conv3d_transpose_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    col: F32Array | None,
    dw_partials: F32Array | None,
    unfold: F32Array | None,
    kernel_buffer: F32Array | None,
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    dilation_rate: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
    activation: Activation,
    dy_is_preactivation: bool,
) -> None:
    """Writes dkernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz unless
    dy_is_preactivation; workspaces as for conv3d_transpose_forward.
    """

def conv3d_transpose_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    col: F32Array | None,
    unfold: F32Array | None,
    kernel_buffer: F32Array | None,
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    dilation_rate: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
    activation: Activation,
) -> None:
    """y (n, d, h, w, f) = act(conv3d_transpose(x (n, od, oh, ow, cin), kernel (kd, kh, kw, f, cin)) +
    bias): the input gradient of the convolution y -> x with these strides, dilation and pads (front,
    top, left); workspaces sized by conv3d_workspace_sizes(y.shape, kernel.shape, x.shape, ...) (scratch
    only).
    """

def conv3d_workspace_sizes(
    x_shape: list[int],
    kernel_shape: list[int],
    y_shape: list[int],
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    dilation_rate: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
) -> dict:
    """Sizes of conv3d's workspaces: unfold, kernel_buffer and dw_partials (floats); col is (k * col_rows,
    col_cols) for k >= 1, or None when col_rows is 0.
    """

def conv_algo() -> str:
    """The convolution algorithm setting: 'auto' (a fixed rule per shape), 'tune' (measured per shape and
    pass), 'im2col', 'direct', 'winograd2', 'winograd4' or 'winograd6' (SEQNET_CONV_ALGO at first use,
    or set_conv_algo).
    """

def conv_algo_choices() -> list:
    """The choices measured so far in this process (setting 'tune'): one dict per shape, pass and thread
    count.
    """

def conv_algo_rule(
    x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32],
    kernel: typing.Annotated[numpy.typing.ArrayLike, numpy.float32],
    y: typing.Annotated[numpy.typing.ArrayLike, numpy.float32],
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
) -> str:
    """The algorithm the 'auto' setting runs for this convolution (as conv_forward's arguments; the input
    gradient runs as the forward convolution of dy by the flipped kernel): 'im2col', 'direct',
    'winograd2' or 'winograd4'.
    """

def conv_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    col: F32Array | None,
    dw_partials: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
    dy_is_preactivation: bool,
    pool_dy: F32Array | None = None,
    pool_argmax: F32Array | None = None,
    pool_gate: F32Array | None = None,
) -> None:
    """The gradients of conv_forward: dkernel, dbias (optional) and dx (optional) from dy, the gradient of
    y (overwritten with that of the pre-activation unless dy_is_preactivation). With pool_dy (n, oh //
    2, ow // 2, f), pool_argmax (int32) and optionally pool_gate, the same shape: dy's contents are
    instead the scatter of that 2x2 stride-2 max pooling's gradient, as max_pool_backward(pool_dy,
    pool_argmax, dy, gate=pool_gate) forms it (dy_is_preactivation or a linear activation); a Winograd
    convolution reads them in place and leaves dy unwritten, others scatter them into dy first. The same
    bits either way.
    """

conv_dw_block_rows: int

def conv_dw_partials_size(n: int, oh: int, ow: int, kh: int, kw: int, c: int, f: int) -> int:
    """Floats of the dw_partials workspace conv_backward needs for these sizes."""

def conv_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    col: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
    pool_y: F32Array | None = None,
    pool_argmax: F32Array | None = None,
) -> None:
    """y (n, oh, ow, f) = act(conv(x (n, h, w, c), kernel (kh, kw, c, f)) + bias); pads = (top, left); col
    is the im2col workspace (rows >= oh*ow, kh*kw*c), None only for a 1x1 unpadded stride-1 kernel. With
    pool_y (n, oh // 2, ow // 2, f) and pool_argmax (int32, same shape): also the 2x2 stride-2 max
    pooling of y, as max_pool_forward gives it, and y's contents are then unspecified (a Winograd
    convolution never writes it).
    """

def conv_transpose_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    col: F32Array | None,
    dw_partials: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
    dy_is_preactivation: bool,
) -> None:
    """Writes dkernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz unless
    dy_is_preactivation; dw_partials holds conv_transpose_partials_size(...) floats (None with col
    None).
    """

def conv_transpose_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    col: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
) -> None:
    """y (n, oh, ow, f) = act(conv_transpose(x (n, h, w, cin), kernel (kh, kw, f, cin)) + bias): the input
    gradient of the convolution y -> x with these strides, dilation and pads (top, left); col is the
    column workspace (rows >= h*w, kh*kw*f), None only for a 1x1 unpadded stride-1 kernel.
    """

def conv_transpose_partials_size(
    n: int,
    h: int,
    w: int,
    kh: int,
    kw: int,
    filters: int,
    in_channels: int,
) -> int:
    """Floats of the dw_partials workspace conv_transpose_backward needs for an input x of (n, h, w,
    in_channels) and a kernel (kh, kw, filters, in_channels), when it is given a col workspace.
    """

def dense_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    act: Activation,
    dy_is_preactivation: bool,
) -> None:
    ...

def dense_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    act: Activation,
) -> None:
    ...

def depthwise_backward(
    x: F32Array,
    depthwise_kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    ddepthwise_kernel: F32Array,
    dbias: F32Array | None,
    dw_partials: F32Array | None,
    expanded: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
    dy_is_preactivation: bool,
) -> None:
    """Writes ddepthwise_kernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz
    unless dy_is_preactivation; dw_partials holds depthwise_dw_partials_size(...) floats, expanded
    depthwise_expanded_size(...) (None when dm == 1).
    """

def depthwise_dw_partials_size(
    n: int,
    oh: int,
    ow: int,
    kh: int,
    kw: int,
    c: int,
    depth_multiplier: int,
) -> int:
    """Floats of the dw_partials workspace depthwise_backward needs for these sizes."""

def depthwise_expanded_size(n: int, h: int, w: int, c: int, depth_multiplier: int) -> int:
    """Floats of the expanded workspace depthwise_forward and depthwise_backward need for an input x of (n,
    h, w, c): the input with each channel repeated depth_multiplier times, 0 when it is 1.
    """

def depthwise_forward(
    x: F32Array,
    depthwise_kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    expanded: F32Array | None,
    strides: tuple[int, int],
    dilation_rate: tuple[int, int],
    pads: tuple[int, int],
    activation: Activation,
) -> None:
    """y (n, oh, ow, c*dm) = act(depthwise(x (n, h, w, c), depthwise_kernel (kh, kw, c, dm)) + bias);
    output channel ci*dm + m reads input channel ci; pads = (top, left); z (optional) keeps the pre-
    activation; expanded is a workspace of depthwise_expanded_size(...) floats, None when dm == 1.
    """

def detected_isa() -> str:
    ...

def dropout_backward(dy: F32Array, mask: U8Array, dx: F32Array, rate: float) -> None:
    ...

def dropout_forward(
    x: F32Array,
    y: F32Array,
    mask: U8Array,
    rate: float,
    key: int,
    stream: int,
    offset: int = 0,
) -> None:
    ...

def embedding_backward(indices: IndexArray, dy: F32Array, dembeddings: F32Array) -> None:
    """dembeddings = 0, then dembeddings[indices[i]] += dy[i] in order; indices as for embedding_forward."""

def embedding_backward_rows(
    indices: F32Array,
    dy: F32Array,
    dembeddings: F32Array,
    clear: F32Array,
    rows_out: F32Array,
) -> int:
    """Row-sparse backward: dembeddings[clear] = 0 (clear: strictly increasing int64 rows), then
    dembeddings[indices[i]] += dy[i] in order; writes the distinct rows of indices, increasing, to
    rows_out (int64, room for indices.size) and returns their count. clear may be a view of rows_out.
    """

def embedding_distinct(
    indices: F32Array,
    input_dim: int,
    distinct_out: F32Array,
    inverse_out: F32Array,
) -> int:
    """The distinct rows of indices (as for embedding_forward, checked against input_dim) in order of first
    appearance to distinct_out (int64, room for indices.size), each index's position among them to
    inverse_out (int64, the indices' shape); returns their count.
    """

def embedding_forward(indices: IndexArray, embeddings: F32Array, out: F32Array) -> None:
    """out = embeddings[indices]. indices: int32, int64, or float32 holding exact integers below 2**24;
    ValueError naming the first index outside [0, input_dim).
    """

def fma_peak(threads: int | None = None, seconds: float = 0.03) -> float:
    """The FP32 multiply-add peak of `threads` threads (default: the engine's thread count) now, in
    GFLOP/s: independent multiply-adds on the active instruction set's widest vectors, for about
    `seconds` (the best of three runs). The ceiling any kernel can reach.
    """

def gather_rows(src: F32Array, index: I64Array, dst: F32Array) -> None:
    ...

def gemm_kernel_name() -> str:
    """The GEMM microkernel in use (follows set_isa), e.g. 'avx512 14x32'."""

def gemm_prefetch() -> bool:
    """Whether sgemm's prefetch plans are on."""

def gemm_rule(name: str) -> bool:
    """Whether sgemm's path rule `name` ('threaded_cols', 'shared_l3_blocks' or 'packed_a') is on."""

def gemm_uses_amx(m: int, n: int, k: int) -> bool:
    """Whether sgemm runs an m x n x k product on the AMX tile unit now (see amx_active)."""

def get_num_threads() -> int:
    ...

def global_avg_pool_backward(dy: F32Array, dx: F32Array) -> None:
    ...

def global_avg_pool_forward(x: F32Array, y: F32Array) -> None:
    ...

def global_max_pool_backward(dy: F32Array, argmax: I32Array, dx: F32Array) -> None:
    ...

def global_max_pool_forward(x: F32Array, y: F32Array, argmax: I32Array) -> None:
    ...

def local_backward(
    x: F32Array,
    kernel: F32Array,
    z: F32Array | None,
    y: F32Array,
    dy: F32Array,
    dx: F32Array | None,
    dkernel: F32Array,
    dbias: F32Array | None,
    col: F32Array,
    kernel_size: typing.Annotated[list[int], "FixedSize(2)"],
    strides: typing.Annotated[list[int], "FixedSize(2)"],
    channels_first: bool,
    activation: Activation,
    dy_is_preactivation: bool,
) -> None:
    ...

def local_forward(
    x: F32Array,
    kernel: F32Array,
    bias: F32Array | None,
    z: F32Array | None,
    y: F32Array,
    col: F32Array,
    kernel_size: typing.Annotated[list[int], "FixedSize(2)"],
    strides: typing.Annotated[list[int], "FixedSize(2)"],
    channels_first: bool,
    activation: Activation,
) -> None:
    """Locally connected ('valid'): y (n, oh, ow, f) = act(patches(x) kernel[p] + bias[p]) per position p;
    x is (n, h, w, c), or (n, c, h, w) when channels_first; kernel (oh*ow, kh*kw*c, f); bias (oh*ow, f);
    col (n, oh*ow, kh*kw*c) receives the patches for local_backward.
    """

def loss(
    loss: Loss,
    y_true: F32Array,
    y_pred: F32Array,
    logits: F32Array | None,
    sample_weight: F32Array | None,
    grad: F32Array | None,
    per_sample: F32Array | None,
) -> float:
    ...

def matmul(a: F32Array, b: F32Array, trans_a: bool = False, trans_b: bool = False) -> F32Array:
    """op(a) @ op(b) as a new float32 array."""

def matmul_precision() -> str:
    """The precision set_matmul_precision set: 'highest' or 'high'."""

def max_pool3d_backward(
    dy: F32Array,
    argmax: F32Array,
    mid_argmax: F32Array,
    dmid: F32Array,
    dx: F32Array,
    pool_size: typing.Annotated[list[int], "FixedSize(3)"],
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
) -> None:
    ...

def max_pool3d_forward(
    x: F32Array,
    y: F32Array,
    argmax: F32Array,
    mid: F32Array,
    mid_argmax: F32Array,
    pool_size: typing.Annotated[list[int], "FixedSize(3)"],
    strides: typing.Annotated[list[int], "FixedSize(3)"],
    pads: typing.Annotated[list[int], "FixedSize(3)"],
) -> None:
    """y (n, od, oh, ow, c) = max over windows of x (n, d, h, w, c); mid and mid_argmax (n, d, oh, ow, c)
    keep the (h, w) pass for max_pool3d_backward.
    """

def max_pool_backward(
    dy: F32Array,
    argmax: I32Array,
    dx: F32Array,
    pool_size: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int],
    gate: F32Array | None = None,
) -> None:
    """dx of max pooling; with gate (the forward's output, when its input came out of a ReLU) the gradient
    before that ReLU: a window's gradient reaches its argmax only where the gate is not <= 0.
    """

def max_pool_forward(
    x: F32Array,
    y: F32Array,
    argmax: I32Array,
    pool_size: tuple[int, int],
    strides: tuple[int, int],
    pads: tuple[int, int],
) -> None:
    ...

def nadam_update(
    params: F32Array,
    grads: F32Array,
    m: F32Array,
    v: F32Array,
    lr: float,
    beta_1: float,
    beta_2: float,
    epsilon: float,
    grad_coef: float,
    moment_coef: float,
    v_correction: float,
) -> None:
    ...

def random_normal(out: F32Array, mean: float, stddev: float, key: int, stream: int, offset: int = 0) -> None:
    ...

def random_truncated_normal(out: F32Array, mean: float, stddev: float, key: int, stream: int) -> None:
    ...

def random_uniform(out: F32Array, low: float, high: float, key: int, stream: int, offset: int = 0) -> None:
    ...

def rmsprop_decay_rows(
    accumulators: F32Array,
    rows: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
    skipped: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
    rho: float,
) -> None:
    """a = rho * a, `skipped` times, on rows `rows` (int64, increasing) of a (rows, dim) block."""

def rmsprop_update(
    params: F32Array,
    grads: F32Array,
    accumulators: F32Array,
    moments: F32Array | None,
    mean_grads: F32Array | None,
    lr: float,
    rho: float,
    momentum: float,
    epsilon: float,
) -> None:
    ...

def rmsprop_update_rows(
    params: F32Array,
    grads: F32Array,
    accumulators: F32Array,
    rows: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
    skipped: typing.Annotated[numpy.typing.ArrayLike, numpy.int64],
    lr: float,
    rho: float,
    epsilon: float,
) -> None:
    """Plain RMSprop on rows `rows` (int64, increasing) of (rows, dim) blocks, each row's accumulator first
    decayed through `skipped` zero-gradient steps: the dense update's bits for an Embedding table's
    touched rows.
    """

def rnn_activation_supported(act: Activation) -> bool:
    """True for the activations the recurrent kernels implement."""

def rnn_backward(
    cell: RnnCell,
    x: F32Array | None,
    kernel: F32Array,
    recurrent_kernel: F32Array,
    h0: F32Array,
    c0: F32Array | None,
    in_mask: F32Array | None,
    rec_mask: F32Array | None,
    gates: F32Array,
    hs: F32Array,
    aux: F32Array | None,
    dhs: F32Array | None,
    dh_last: F32Array | None,
    dc_last: F32Array | None,
    dx: F32Array | None,
    dkernel: F32Array | None,
    drecurrent_kernel: F32Array,
    dbias: F32Array | None,
    dh0: F32Array | None,
    dc0: F32Array | None,
    scratch: F32Array,
    act: Activation,
    rec_act: Activation,
    go_backwards: bool,
    *,
    mask: SequenceMask | None = None,
    reset_after: bool = False,
) -> None:
    """Backward through time; overwrites gates (and, with reset_after, aux) with gradients. mask and
    reset_after as given to rnn_forward. dkernel None: no dW (x may then be None, with in_mask and dx
    None); the gate gradients left in gates give it.
    """

def rnn_forward(
    cell: RnnCell,
    x: F32Array | None,
    kernel: F32Array,
    recurrent_kernel: F32Array,
    bias: F32Array | None,
    h0: F32Array,
    c0: F32Array | None,
    in_mask: F32Array | None,
    rec_mask: F32Array | None,
    gates: F32Array,
    hs: F32Array,
    aux: F32Array | None,
    scratch: F32Array,
    act: Activation,
    rec_act: Activation,
    go_backwards: bool,
    *,
    mask: SequenceMask | None = None,
    h_last: F32Array | None = None,
    c_last: F32Array | None = None,
    reset_after: bool = False,
) -> None:
    """Recurrent layer forward over a sequence. aux: cs (LSTM), rh (GRU) or None; hs receives the outputs
    of every step (step order). mask: None or bool/uint8 (batch, steps) in time order (0 = skip the
    step, Keras semantics); h_last, c_last: optional (batch, units) outputs of the final states;
    reset_after: GRU with bias (2, 3*units). x None (with in_mask None): gates hold the input projection
    x W + b on entry (b: the input half of a GRU(reset_after)'s bias).
    """

def rnn_scratch_size(cell: RnnCell, batch: int, steps: int, input: int, units: int) -> int:
    ...

def rnn_thread_speeds() -> list[float]:
    """Relative speeds of the threads of an LSTM recurrence, which set its split of the batch rows."""

def set_amx(enabled: bool) -> bool:
    """Turns the AMX GEMM path on or off (SEQNET_AMX=0 starts it off); returns amx_active()."""

def set_contention_backoff(enabled: bool) -> bool:
    """Whether kernels drop to one thread for a while when another process competes for the cores (default
    True). Returns the previous setting.
    """

def set_conv_algo(algo: str) -> str:
    """Sets the algorithm of 3x3 stride-1 convolutions ('winograd' is 'winograd4'); returns the previous
    setting.
    """

def set_gemm_prefetch(on: bool) -> None:
    """Turns sgemm's prefetch plans (the next tile's lines asked for while a tile computes) on (the
    default) or off: for benchmarks; results are the same either way.
    """

def set_gemm_rule(name: str, on: bool) -> None:
    """Turns one of sgemm's path rules on (the default) or off, for benchmarks; results are the same either
    way. 'threaded_cols': on several threads, the column path (A read in place, B packed once) for
    larger products than the small-batch ones; 'shared_l3_blocks': the packed path's blocks of B kept to
    1.5 MiB for wide products; 'packed_a': on one thread, the packed path (A copied into panels) for
    products of a few rows or a batch of them.
    """

@overload
def set_isa(name: str) -> str:
    """Caps the instruction set (clamped to the CPU's); returns the name of the one in effect."""

@overload
def set_isa(name: Isa) -> str:
    ...

def set_matmul_precision(precision: str) -> None:
    """'highest' (the default: FP32 accuracy) or 'high' (the AMX path keeps 3 of its 6 bf16 partial
    products: about twice as fast there, error about 2^-16 of sum |a b|).
    """

def set_num_threads(n: int) -> None:
    ...

def set_rnn_thread_speeds(speeds: list[float]) -> None:
    """Sets the relative thread speeds the next LSTM recurrence splits its rows by."""

def sgd_update(
    params: F32Array,
    grads: F32Array,
    moments: F32Array | None,
    lr: float,
    momentum: float,
    nesterov: bool,
) -> None:
    ...

def sgemm(
    a: F32Array,
    b: F32Array,
    c: F32Array,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    bias: F32Array | None = None,
) -> None:
    """c = alpha * op(a) @ op(b) + beta * c (+ bias), in place; 2-D float32 C-contiguous arrays."""

def sgemm_stacked(
    a: list,
    b: F32Array,
    c: list,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
) -> None:
    """c[q] = alpha * op(a[q]) @ op(b) + beta * c[q] for each q, in place: products sharing op(b) in one
    call (op(b) packed once; on the AMX path the rows count together).
    """
