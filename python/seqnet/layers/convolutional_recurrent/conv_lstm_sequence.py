"""The forward and backward pass of ConvLSTM2D over one batch of sequences, on the engine's
convolution and activation kernels, with the gate math in NumPy.

Arrays are time-major and channels_last: inputs (T, B, H, W, C), gate pre-activations
z (T, B, oh, ow, 4F) in Keras' gate order i, f, c, o, states (T + 1, B, oh, ow, F) with the
initial state first. With dropout, each gate reads its own masked copy of the input (and
of h for recurrent dropout), so the convolutions run once per gate on that gate's columns
of the kernel; without, once for all four gates.

Backward of the recurrent convolution (stride 1, 'same'): the gradient of its input is the
convolution of dz with the kernel flipped in space and transposed in its channel axes,
padded by (kh - 1 - top, kw - 1 - left).
"""
import numpy as np

from seqnet import _engine
from seqnet.layers.convolutional.base_conv import _COL_BUDGET
from seqnet.layers.convolutional.conv_utils import pad_before

_LINEAR = _engine.Activation.linear


class ConvLSTMSequence:
    """Buffers and saved values of one ConvLSTM2D runner (kept between batches)."""

    def __init__(self, layer):
        self.layer = layer
        self._buffers = {}

    def buffer(self, key, shape, dtype=np.float32):
        """A reusable C-contiguous array of `shape` (a prefix of one flat buffer, so a
        smaller last batch allocates nothing)."""
        n = int(np.prod(shape))
        buf = self._buffers.get(key)
        if buf is None or buf.size < n or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(n, dtype)
        return buf[:n].reshape(shape)

    # ---- forward -----------------------------------------------------------------------------
    def forward(self, xt, spatial, h0, c0, in_masks, rec_masks):
        """Runs the sequence `xt` (T, B, H, W, C); returns (hs (T, B, oh, ow, F), h_T, c_T)."""
        layer = self.layer
        steps, batch, rows, cols, _ = xt.shape
        f = layer.filters
        kh, kw = layer.kernel_size
        self.pads = (pad_before(rows, spatial[0], kh, layer.padding, layer.strides[0], layer.dilation_rate[0]),
                     pad_before(cols, spatial[1], kw, layer.padding, layer.strides[1], layer.dilation_rate[1]))
        self.rec_pads = ((kh - 1) // 2, (kw - 1) // 2)  # 'same', stride 1
        state_shape = (batch,) + tuple(spatial) + (f,)
        z = self.buffer("z", (steps,) + state_shape[:3] + (4 * f,))
        self._input_conv(xt, z, in_masks)
        hs = self.buffer("hs", (steps + 1,) + state_shape)
        cs = self.buffer("cs", (steps + 1,) + state_shape)
        for arr, init in ((hs, h0), (cs, c0)):
            if init is None:
                arr[0].fill(0.0)
            else:
                arr[0] = init
        r = self.buffer("r", z.shape)  # recurrent_activation(z)
        zc = self.buffer("zc", (steps,) + state_shape)  # the c gate's pre-activation, contiguous
        a = self.buffer("a", zc.shape)  # activation(zc)
        tc = self.buffer("tc", zc.shape)  # activation(c)
        rz = self.buffer("rz", z.shape[1:])
        act, rec_act = layer._act, layer._rec_act
        for t in range(steps):
            if t > 0 or h0 is not None:  # h of the first step is zero unless stateful
                self._recurrent_conv(hs[t], rz, rec_masks)
                z[t] += rz
            _engine.activation_forward(rec_act, z[t], r[t])
            np.copyto(zc[t], z[t][..., 2 * f:3 * f])
            _engine.activation_forward(act, zc[t], a[t])
            c = cs[t + 1]
            np.multiply(r[t][..., f:2 * f], cs[t], out=c)
            c += r[t][..., :f] * a[t]
            _engine.activation_forward(act, c, tc[t])
            np.multiply(r[t][..., 3 * f:], tc[t], out=hs[t + 1])
        self._saved = (xt, z, r, zc, a, tc, hs, cs, in_masks, rec_masks)
        return hs[1:], hs[steps], cs[steps]

    def _input_conv(self, xt, z, masks):
        layer = self.layer
        steps, batch = xt.shape[:2]
        x_flat = xt.reshape((steps * batch,) + xt.shape[2:])
        z_flat = z.reshape((steps * batch,) + z.shape[2:])
        kernel = layer.kernel.value
        bias = layer.bias.value if layer.bias is not None else None
        col = self._col("col_in", steps * batch, z.shape[2:4], kernel.shape[:3])
        for lo, hi, mask in _groups(masks, layer.filters):
            if mask is None:
                _engine.conv_forward(x_flat, kernel, bias, None, z_flat, col, layer.strides, layer.dilation_rate,
                                     self.pads, _LINEAR)
                continue
            xm = self.buffer("x_masked", xt.shape)
            np.multiply(xt, mask, out=xm)
            out = self.buffer("z_gate", z_flat.shape[:3] + (hi - lo,))
            _engine.conv_forward(xm.reshape(x_flat.shape), np.ascontiguousarray(kernel[..., lo:hi]),
                                 None if bias is None else np.ascontiguousarray(bias[lo:hi]), None, out, col,
                                 layer.strides, layer.dilation_rate, self.pads, _LINEAR)
            z_flat[..., lo:hi] = out

    def _recurrent_conv(self, h, out, masks):
        """out (B, oh, ow, 4F) = conv_same(h, recurrent_kernel) (per gate on h * mask)."""
        kernel = self.layer.recurrent_kernel.value
        col = self._col("col_rec", h.shape[0], h.shape[1:3], kernel.shape[:3])
        for lo, hi, mask in _groups(masks, self.layer.filters):
            if mask is None:
                _engine.conv_forward(h, kernel, None, None, out, col, (1, 1), (1, 1), self.rec_pads, _LINEAR)
                continue
            hm = self.buffer("h_masked", h.shape)
            np.multiply(h, mask, out=hm)
            part = self.buffer("rz_gate", h.shape)
            _engine.conv_forward(hm, np.ascontiguousarray(kernel[..., lo:hi]), None, None, part, col, (1, 1), (1, 1),
                                 self.rec_pads, _LINEAR)
            out[..., lo:hi] = part

    # ---- backward ----------------------------------------------------------------------------
    def backward(self, dhs, dh_last, dc_last, need_dx, kernel, recurrent_kernel, bias):
        """Backward through time from dL/d(every h) `dhs` (T, B, oh, ow, F) or None and
        dL/d(h_T), dL/d(c_T) (or None); writes the weights' gradients and returns dL/d(xt)
        (time-major, as `xt`) or None."""
        xt, z, r, zc, a, tc, hs, cs, in_masks, rec_masks = self._saved
        layer = self.layer
        f, steps = layer.filters, z.shape[0]
        act, rec_act = layer._act, layer._rec_act
        need_input = _engine.activation_backward_needs_input
        dz = self.buffer("dz", z.shape)
        dr = self.buffer("dr", z.shape[1:])
        dr[..., 2 * f:3 * f] = 0.0  # the c gate goes through `activation`, handled apart
        dh = self.buffer("dh", hs.shape[1:])
        dc = self.buffer("dc", hs.shape[1:])
        tmp = self.buffer("tmp", hs.shape[1:])
        dzc = self.buffer("dzc", hs.shape[1:])
        dh.fill(0.0)
        dc.fill(0.0)
        if dh_last is not None:
            dh += dh_last
        if dc_last is not None:
            dc += dc_last
        flipped = self._flipped_recurrent_kernels(rec_masks)
        for t in range(steps - 1, -1, -1):
            if dhs is not None:
                dh += dhs[t]
            rt = r[t]
            np.multiply(dh, tc[t], out=dr[..., 3 * f:])  # d o
            np.multiply(dh, rt[..., 3 * f:], out=tmp)  # d activation(c)
            _engine.activation_backward(act, cs[t + 1] if need_input(act) else None, tc[t], tmp, tmp)
            dc += tmp
            np.multiply(dc, a[t], out=dr[..., :f])  # d i
            np.multiply(dc, cs[t], out=dr[..., f:2 * f])  # d f
            np.multiply(dc, rt[..., :f], out=tmp)  # d activation(zc)
            _engine.activation_backward(rec_act, z[t] if need_input(rec_act) else None, rt, dr, dz[t])
            _engine.activation_backward(act, zc[t] if need_input(act) else None, a[t], tmp, dzc)
            dz[t][..., 2 * f:3 * f] = dzc
            dc *= rt[..., f:2 * f]  # dL/dc of the previous step
            if t > 0:
                self._recurrent_conv_input_grad(dz[t], dh, flipped, rec_masks)
        self._recurrent_kernel_grad(hs[:steps], dz, recurrent_kernel, rec_masks)
        return self._input_grads(xt, dz, need_dx, kernel, bias, in_masks)

    def _flipped_recurrent_kernels(self, masks):
        kernel = self.layer.recurrent_kernel.value
        return [np.ascontiguousarray(kernel[::-1, ::-1, :, lo:hi].transpose(0, 1, 3, 2))
                for lo, hi, _ in _groups(masks, self.layer.filters)]

    def _recurrent_conv_input_grad(self, dzt, dh, flipped, masks):
        """dh = dL/d(h of the previous step) through the recurrent convolution."""
        kh, kw = self.layer.kernel_size
        pads = (kh - 1 - self.rec_pads[0], kw - 1 - self.rec_pads[1])
        for (lo, hi, mask), kernel in zip(_groups(masks, self.layer.filters), flipped):
            col = self._col("col_back", dzt.shape[0], dzt.shape[1:3], kernel.shape[:3])
            if mask is None:
                _engine.conv_forward(dzt, kernel, None, None, dh, col, (1, 1), (1, 1), pads, _LINEAR)
                continue
            part = self.buffer("dh_gate", dh.shape)
            _engine.conv_forward(np.ascontiguousarray(dzt[..., lo:hi]), kernel, None, None, part, col, (1, 1), (1, 1),
                                 pads, _LINEAR)
            part *= mask
            if lo == 0:
                np.copyto(dh, part)
            else:
                dh += part

    def _recurrent_kernel_grad(self, h_prev, dz, weight, masks):
        """dL/d(recurrent_kernel): one convolution weight gradient over all steps."""
        steps, batch = dz.shape[:2]
        n = steps * batch
        h_flat = h_prev.reshape((n,) + h_prev.shape[2:])
        dz_flat = dz.reshape((n,) + dz.shape[2:])
        grad = weight.grad if weight.grad is not None else self.buffer("d_rec", weight.shape)
        for lo, hi, mask in _groups(masks, self.layer.filters):
            kernel = weight.value if mask is None else np.ascontiguousarray(weight.value[..., lo:hi])
            x, dy = h_flat, dz_flat
            if mask is not None:
                hm = self.buffer("hs_masked", h_prev.shape)
                np.multiply(h_prev, mask, out=hm)
                x = hm.reshape(h_flat.shape)
                dy = self.buffer("dz_gate", dz_flat.shape[:3] + (hi - lo,))
                np.copyto(dy, dz_flat[..., lo:hi])
            self._conv_backward(x, kernel, dy, None, grad, None, (1, 1), (1, 1), self.rec_pads, lo, hi, "rec")

    def _input_grads(self, xt, dz, need_dx, weight, bias, masks):
        steps, batch = xt.shape[:2]
        n = steps * batch
        layer = self.layer
        x_flat = xt.reshape((n,) + xt.shape[2:])
        dz_flat = dz.reshape((n,) + dz.shape[2:])
        grad = weight.grad if weight.grad is not None else self.buffer("d_kernel", weight.shape)
        bias_grad = None
        if bias is not None:
            bias_grad = bias.grad if bias.grad is not None else self.buffer("d_bias", bias.shape)
        dxt = self.buffer("dxt", xt.shape) if need_dx else None
        for lo, hi, mask in _groups(masks, layer.filters):
            if mask is None:
                self._conv_backward(x_flat, weight.value, dz_flat, None if dxt is None else dxt.reshape(x_flat.shape),
                                    grad, bias_grad, layer.strides, layer.dilation_rate, self.pads, lo, hi, "in")
                continue
            xm = self.buffer("x_masked", xt.shape)
            np.multiply(xt, mask, out=xm)
            dy = self.buffer("dz_gate", dz_flat.shape[:3] + (hi - lo,))
            np.copyto(dy, dz_flat[..., lo:hi])
            part = self.buffer("dx_gate", xt.shape) if dxt is not None else None
            self._conv_backward(xm.reshape(x_flat.shape), np.ascontiguousarray(weight.value[..., lo:hi]), dy,
                                None if part is None else part.reshape(x_flat.shape), grad, bias_grad,
                                layer.strides, layer.dilation_rate, self.pads, lo, hi, "in")
            if part is not None:
                part *= mask
                if lo == 0:
                    np.copyto(dxt, part)
                else:
                    dxt += part
        return dxt

    def _conv_backward(self, x, kernel, dy, dx, grad, bias_grad, strides, dilation, pads, lo, hi, key):
        """conv_backward for the gates' columns lo:hi of `grad` (and of `bias_grad`)."""
        whole = hi - lo == grad.shape[-1]
        dk = grad if whole else self.buffer(key + "_dk", kernel.shape)
        db = None
        if bias_grad is not None:
            db = bias_grad if whole else self.buffer(key + "_db", (hi - lo,))
        n, oh, ow, filters = dy.shape
        kh, kw, c, _ = kernel.shape
        col = self._col("col_" + key + "_back", n, (oh, ow), kernel.shape[:3])
        partials = self.buffer(key + "_partials", (_engine.conv_dw_partials_size(n, oh, ow, kh, kw, c, filters),))
        _engine.conv_backward(x, kernel, None, dy, dy, dx, dk, db, col, partials, strides, dilation, pads, _LINEAR,
                              True)
        if not whole:
            grad[..., lo:hi] = dk
            if db is not None:
                bias_grad[lo:hi] = db

    def _col(self, key, n, out_spatial, patch_shape):
        """The im2col workspace for `n` images (in chunks within the column budget)."""
        pixels = int(out_spatial[0]) * int(out_spatial[1])
        patch = int(np.prod(patch_shape))
        images = max(1, min(n, _COL_BUDGET // max(pixels * patch, 1)))
        return self.buffer(key, (images * pixels, patch))


def _groups(masks, filters):
    """(lo, hi, mask) per convolution: all 4 gates at once without masks, else one per gate."""
    if masks is None:
        return [(0, 4 * filters, None)]
    return [(g * filters, (g + 1) * filters, masks[g]) for g in range(4)]
