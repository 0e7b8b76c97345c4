"""Adagrad, Adadelta, Adam (amsgrad), Adamax and Nadam: the engine kernels against NumPy
float64 formulas of Keras 2.2.4's update rules (every instruction set, the threaded path,
bit-identical for 1 and 2 threads, argument checks), then the Python optimizers: the
step-dependent scalars and learning-rate decay against the whole 2.2.4 update in float64,
string ids, aliases, the SPEC defaults and get_config. Training parity with tf-keras is in
test_keras_parity.py (train_*adagrad*, *adadelta*, *adam*, *adamax*, *nadam* fixtures)."""
import math
import platform

import numpy as np
import pytest

import seqnet as keras
from numeric_helpers import AVAILABLE_ISAS, assert_close, bits, rng
from seqnet import _engine as E
from seqnet import backend as K
from seqnet import optimizers
from seqnet.layers import Dense
from seqnet.models import Sequential

F32 = np.float32
SIZES = [37, 70001]  # neither a multiple of 8 or 16; the second takes the threaded path
GRAD_SCALES = [1.0, 2.0, 0.3, 0.1, 1.0]  # falling gradients make Adam's v fall (amsgrad matters)


def grads_for_steps(n, seed=50):
    r = rng(seed)
    return [(s * r.standard_normal(n)).astype(F32) for s in GRAD_SCALES]


def r32(x):
    """A scalar as the kernel sees it (float32), in float64 for the reference."""
    return np.float64(F32(x))


# ---------------------------------------------------------------------------
# Kernels: one entry per optimizer. slots(n) makes the float32 slot buffers;
# call(p, g, slots, t) runs the kernel for step t (1-based) with the step's scalars;
# ref(p, g, slots, t) is the float64 Keras 2.2.4 formula with the same float32 scalars.
# ---------------------------------------------------------------------------
LR, RHO, B1, B2, EPS = 0.01, 0.9, 0.8, 0.6, 1e-7
ADADELTA_EPS = 1e-3  # large enough that the first steps move the weights visibly
NADAM_DECAY = 0.5


def adam_lr_t(t):
    return LR * math.sqrt(1 - B2 ** t) / (1 - B1 ** t)


def nadam_scalars(t):
    """(grad_coef, moment_coef, v_correction) of step t, from mu_1 ... mu_t+1."""
    mu = [B1 * (1 - 0.5 * 0.96 ** (k * NADAM_DECAY)) for k in range(1, t + 2)]
    s_t, s_next = math.prod(mu[:t]), math.prod(mu)
    return (1 - mu[t - 1]) / (1 - s_t), mu[t] / (1 - s_next), 1 - B2 ** t


def adagrad_ref(p, g, s, t):
    s["a"] = s["a"] + g * g
    return p - r32(LR) * g / (np.sqrt(s["a"]) + r32(EPS))


def adadelta_ref(p, g, s, t):
    rho, eps = r32(RHO), r32(ADADELTA_EPS)
    s["a"] = rho * s["a"] + (1 - rho) * g * g
    u = g * np.sqrt(s["d"] + eps) / np.sqrt(s["a"] + eps)
    s["d"] = rho * s["d"] + (1 - rho) * u * u
    return p - r32(LR) * u


def adam_ref(p, g, s, t):
    b1, b2 = r32(B1), r32(B2)
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    denom = s["v"]
    if "vhat" in s:
        s["vhat"] = np.maximum(s["vhat"], s["v"])
        denom = s["vhat"]
    return p - r32(adam_lr_t(t)) * s["m"] / (np.sqrt(denom) + r32(EPS))


def adamax_ref(p, g, s, t):
    b1, b2 = r32(B1), r32(B2)
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["u"] = np.maximum(b2 * s["u"], np.abs(g))
    return p - r32(LR / (1 - B1 ** t)) * s["m"] / (s["u"] + r32(EPS))


def nadam_ref(p, g, s, t):
    b1, b2 = r32(B1), r32(B2)
    grad_coef, moment_coef, v_correction = (r32(c) for c in nadam_scalars(t))
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    m_bar = grad_coef * g + moment_coef * s["m"]
    return p - r32(LR) * m_bar / (np.sqrt(s["v"] / v_correction) + r32(EPS))


KERNELS = {
    "adagrad": (("a",), lambda p, g, s, t: E.adagrad_update(p, g, s["a"], LR, EPS), adagrad_ref),
    "adadelta": (("a", "d"), lambda p, g, s, t: E.adadelta_update(p, g, s["a"], s["d"], LR, RHO, ADADELTA_EPS),
                 adadelta_ref),
    "adam": (("m", "v"), lambda p, g, s, t: E.adam_update(p, g, s["m"], s["v"], None, adam_lr_t(t), B1, B2, EPS),
             adam_ref),
    "adam_amsgrad": (("m", "v", "vhat"),
                     lambda p, g, s, t: E.adam_update(p, g, s["m"], s["v"], s["vhat"], adam_lr_t(t), B1, B2, EPS),
                     adam_ref),
    "adamax": (("m", "u"), lambda p, g, s, t: E.adamax_update(p, g, s["m"], s["u"], LR / (1 - B1 ** t), B1, B2, EPS),
               adamax_ref),
    "nadam": (("m", "v"), lambda p, g, s, t: E.nadam_update(p, g, s["m"], s["v"], LR, B1, B2, EPS, *nadam_scalars(t)),
              nadam_ref),
}


def run_kernel(name, n):
    slot_names, call, _ = KERNELS[name]
    p = rng(51).standard_normal(n).astype(F32)
    slots = {k: np.zeros(n, F32) for k in slot_names}
    for t, g in enumerate(grads_for_steps(n), start=1):
        call(p, g, slots, t)
    return p, slots


def run_reference(name, n):
    slot_names, _, ref = KERNELS[name]
    p = rng(51).standard_normal(n).astype(F32).astype(np.float64)
    slots = {k: np.zeros(n) for k in slot_names}
    for t, g in enumerate(grads_for_steps(n), start=1):
        p = ref(p, g.astype(np.float64), slots, t)
    return p, slots


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(KERNELS))
def test_update_matches_float64_keras224_formula(name, n, isa):
    p, slots = run_kernel(name, n)
    p64, slots64 = run_reference(name, n)
    p0 = rng(51).standard_normal(n).astype(F32)
    assert np.mean(np.abs(p - p0) > 1e-4) > 0.9  # the steps moved (nearly) every weight
    assert_close(p, p64, 1e-5, 1e-6, name + " params")
    for key, value in slots.items():
        # m averages signed gradients (cancellation: an absolute floor); the other slots are
        # sums of non-negative terms, exact to float32's relative precision
        assert_close(value, slots64[key], 1e-5, 1e-6 if key == "m" else 1e-12, f"{name} {key}")


def test_amsgrad_differs_from_adam_here():
    """The gradients of the kernel tests make v fall, so max(vhat, v) is exercised."""
    p_adam, _ = run_kernel("adam", 1000)
    p_ams, slots = run_kernel("adam_amsgrad", 1000)
    assert np.mean(slots["vhat"] > slots["v"]) > 0.5
    assert np.max(np.abs(p_adam - p_ams)) > 1e-3


def test_adagrad_first_step_from_zero_accumulator():
    """Keras 2.2.4 starts at a = 0: the first step is lr * g / (|g| + eps)."""
    p, g, a = np.zeros(3, F32), np.array([0.5, -2.0, 0.0], F32), np.zeros(3, F32)
    E.adagrad_update(p, g, a, 0.1, 1e-7)
    assert_close(p, [-0.1 * 0.5 / (0.5 + 1e-7), 0.1 * 2.0 / (2.0 + 1e-7), 0.0], 1e-6, 0, "params")
    assert_close(a, [0.25, 4.0, 0.0], 0, 0, "accumulators")


def test_adamax_infinity_norm_keeps_the_largest_gradient():
    p, m, u = np.zeros(2, F32), np.zeros(2, F32), np.zeros(2, F32)
    for g in ([3.0, -1.0], [0.5, -4.0]):
        E.adamax_update(p, np.array(g, F32), m, u, 0.1, 0.9, 0.5, 1e-7)
    assert_close(u, [1.5, 4.0], 1e-7, 0, "u")  # max(0.5 * 3, 0.5) and max(0.5 * 1, 4)


@pytest.mark.parametrize("name", list(KERNELS))
def test_bit_identical_for_1_and_2_threads(name, restore_threads):
    outs = []
    for threads in (1, 2):
        E.set_num_threads(threads)
        outs.append(run_kernel(name, 70001))
    (p1, s1), (p2, s2) = outs
    np.testing.assert_array_equal(bits(p1), bits(p2))
    for key in s1:
        np.testing.assert_array_equal(bits(s1[key]), bits(s2[key]))


@pytest.mark.parametrize("name", list(KERNELS))
def test_threaded_call_equals_a_small_call_on_its_prefix(name, restore_threads):
    """Each element's value does not depend on the array's size or the split over threads."""
    E.set_num_threads(2)
    p_big, s_big = run_kernel(name, 70001)
    slot_names, call, _ = KERNELS[name]
    k = 8192
    p = rng(51).standard_normal(70001).astype(F32)[:k].copy()
    slots = {key: np.zeros(k, F32) for key in slot_names}
    for t, g in enumerate(grads_for_steps(70001), start=1):
        call(p, g[:k].copy(), slots, t)
    np.testing.assert_array_equal(bits(p), bits(p_big[:k]))
    for key in slots:
        np.testing.assert_array_equal(bits(slots[key]), bits(s_big[key][:k]))


# ---------------------------------------------------------------------------
# Bindings reject bad input with a ValueError naming the argument
# ---------------------------------------------------------------------------
def f32(*shape):
    return np.zeros(shape, F32)


def readonly(a):
    a.setflags(write=False)
    return a


def noncontig(n):
    return np.zeros(2 * n, F32)[::2]


BAD_CALLS = {
    "adagrad grads": (lambda: E.adagrad_update(f32(5), f32(6), f32(5), 0.1, 1e-7), "adagrad_update: grads"),
    "adagrad params readonly": (lambda: E.adagrad_update(readonly(f32(5)), f32(5), f32(5), 0.1, 1e-7),
                                "adagrad_update: params is read-only"),
    "adagrad params dtype": (lambda: E.adagrad_update(np.zeros(5), f32(5), f32(5), 0.1, 1e-7),
                             "adagrad_update: params.*float32"),
    "adagrad accumulators": (lambda: E.adagrad_update(f32(5), f32(5), f32(4), 0.1, 1e-7),
                             "adagrad_update: accumulators.*shape"),
    "adagrad accumulators none": (lambda: E.adagrad_update(f32(5), f32(5), None, 0.1, 1e-7),
                                  "adagrad_update: accumulators"),
    "adadelta accumulators readonly": (lambda: E.adadelta_update(f32(5), f32(5), readonly(f32(5)), f32(5), 1.0, 0.95,
                                                                 1e-7),
                                       "adadelta_update: accumulators is read-only"),
    "adadelta delta_accumulators": (lambda: E.adadelta_update(f32(5), f32(5), f32(5), f32(5, 1), 1.0, 0.95, 1e-7),
                                    "adadelta_update: delta_accumulators.*shape"),
    "adadelta grads noncontig": (lambda: E.adadelta_update(f32(5), noncontig(5), f32(5), f32(5), 1.0, 0.95, 1e-7),
                                 "adadelta_update: grads.*non-contiguous"),
    "adam m": (lambda: E.adam_update(f32(5), f32(5), f32(6), f32(5), None, 0.1, 0.9, 0.999, 1e-7), "adam_update: m"),
    "adam v dtype": (lambda: E.adam_update(f32(5), f32(5), f32(5), np.zeros(5), None, 0.1, 0.9, 0.999, 1e-7),
                     "adam_update: v.*float32"),
    "adam vhat": (lambda: E.adam_update(f32(5), f32(5), f32(5), f32(5), f32(4), 0.1, 0.9, 0.999, 1e-7),
                  "adam_update: vhat.*shape"),
    "adam vhat readonly": (lambda: E.adam_update(f32(5), f32(5), f32(5), f32(5), readonly(f32(5)), 0.1, 0.9, 0.999,
                                                 1e-7),
                           "adam_update: vhat is read-only"),
    "adam params readonly": (lambda: E.adam_update(readonly(f32(5)), f32(5), f32(5), f32(5), None, 0.1, 0.9, 0.999,
                                                   1e-7),
                             "adam_update: params is read-only"),
    "adamax u": (lambda: E.adamax_update(f32(2, 3), f32(2, 3), f32(2, 3), f32(3, 2), 0.1, 0.9, 0.999, 1e-7),
                 "adamax_update: u.*shape"),
    "adamax m readonly": (lambda: E.adamax_update(f32(5), f32(5), readonly(f32(5)), f32(5), 0.1, 0.9, 0.999, 1e-7),
                          "adamax_update: m is read-only"),
    "adamax grads": (lambda: E.adamax_update(f32(5), f32(4), f32(5), f32(5), 0.1, 0.9, 0.999, 1e-7),
                     "adamax_update: grads"),
    "nadam v": (lambda: E.nadam_update(f32(5), f32(5), f32(5), f32(7), 0.1, 0.9, 0.999, 1e-7, 1.0, 1.0, 1.0),
                "nadam_update: v.*shape"),
    "nadam m readonly": (lambda: E.nadam_update(f32(5), f32(5), readonly(f32(5)), f32(5), 0.1, 0.9, 0.999, 1e-7,
                                                1.0, 1.0, 1.0),
                         "nadam_update: m is read-only"),
    "nadam params dtype": (lambda: E.nadam_update(np.zeros(5, np.float16), f32(5), f32(5), f32(5), 0.1, 0.9, 0.999, 1e-7,
                                                  1.0, 1.0, 1.0), "nadam_update: params"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_raises_value_error(case):
    call, pattern = BAD_CALLS[case]
    with pytest.raises(ValueError, match=pattern):
        call()


def test_bad_input_leaves_buffers_untouched():
    p, g, a = np.ones(5, F32), np.ones(5, F32), np.zeros(4, F32)
    with pytest.raises(ValueError):
        E.adagrad_update(p, g, a, 0.1, 1e-7)
    np.testing.assert_array_equal(p, 1.0)
    np.testing.assert_array_equal(a, 0.0)


# ---------------------------------------------------------------------------
# Python optimizers: the whole Keras 2.2.4 update (scalars, decay, t = iterations + 1)
# in float64 against apply_gradients_flat over several steps.
# ---------------------------------------------------------------------------
def keras224_reference(name, cfg, p, grads):
    """The Keras 2.2.4 get_updates formulas in float64; `cfg` is the optimizer's get_config()."""
    lr0, decay, eps = cfg["lr"], cfg.get("decay", 0.0), cfg["epsilon"]  # Nadam's decay: only when set
    state = {"m_schedule": 1.0}
    zeros = np.zeros_like(p)
    a, d, m, v, vhat, u = (zeros.copy() + (cfg.get("initial_accumulator_value", 0.0) if k == "a" else 0.0)
                           for k in ("a", "d", "m", "v", "vhat", "u"))
    for iterations, g in enumerate(grads):
        lr = lr0 / (1.0 + decay * iterations)
        t = iterations + 1
        if name == "adagrad":
            a = a + g * g
            p = p - lr * g / (np.sqrt(a) + eps)
        elif name == "adadelta":
            rho = cfg["rho"]
            a = rho * a + (1 - rho) * g * g
            upd = g * np.sqrt(d + eps) / np.sqrt(a + eps)
            p = p - lr * upd
            d = rho * d + (1 - rho) * upd * upd
        elif name == "adam":
            b1, b2 = cfg["beta_1"], cfg["beta_2"]
            lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vhat = np.maximum(vhat, v)
            p = p - lr_t * m / (np.sqrt(vhat if cfg["amsgrad"] else v) + eps)
        elif name == "adamax":
            b1, b2 = cfg["beta_1"], cfg["beta_2"]
            m = b1 * m + (1 - b1) * g
            u = np.maximum(b2 * u, np.abs(g))
            p = p - lr / (1 - b1 ** t) * m / (u + eps)
        elif name == "nadam":
            b1, b2, sd = cfg["beta_1"], cfg["beta_2"], cfg["schedule_decay"]
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t * sd))
            mu_t1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * sd))
            ms_new = state["m_schedule"] * mu_t
            ms_next = ms_new * mu_t1
            state["m_schedule"] = ms_new
            g_prime = g / (1 - ms_new)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            m_bar = (1 - mu_t) * g_prime + mu_t1 * m / (1 - ms_next)
            p = p - lr * m_bar / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p, state


PY_CASES = {
    "adagrad default": ("adagrad", {}),
    "adagrad decay tf-keras start": ("adagrad", dict(lr=0.05, decay=0.3, initial_accumulator_value=0.1)),
    "adadelta default": ("adadelta", {}),
    "adadelta decay": ("adadelta", dict(lr=0.5, rho=0.8, epsilon=1e-4, decay=0.2)),
    "adam default": ("adam", {}),
    "adam amsgrad decay": ("adam", dict(lr=0.01, beta_1=0.7, beta_2=0.6, amsgrad=True, decay=0.5)),
    "adamax default": ("adamax", {}),
    "adamax decay": ("adamax", dict(lr=0.01, beta_1=0.7, beta_2=0.5, decay=0.5)),
    "nadam default": ("nadam", {}),
    "nadam schedule decay": ("nadam", dict(lr=0.01, beta_1=0.7, beta_2=0.6, schedule_decay=2.0, decay=0.5)),
}


@pytest.mark.parametrize("case", list(PY_CASES))
def test_optimizer_steps_match_keras224_in_float64(case):
    name, kwargs = PY_CASES[case]
    opt = optimizers.get(name) if not kwargs else getattr(optimizers, name)(**kwargs)
    n = 300
    p0 = rng(60).standard_normal(n).astype(F32)
    grads = grads_for_steps(n, seed=61)
    params = p0.copy()
    for g in grads:
        opt.apply_gradients_flat(params, g.copy(), [(0, n)])
    assert K.get_value(opt.iterations) == len(grads)
    cfg = opt.get_config()
    cfg["lr"] = r32(cfg["lr"])  # lr is a float32 backend variable
    want, state = keras224_reference(name, cfg, p0.astype(np.float64), [g.astype(np.float64) for g in grads])
    assert_close(params, want, 2e-5, 1e-6, case)
    if name == "nadam":
        assert opt.m_schedule == pytest.approx(state["m_schedule"], rel=1e-12)


def test_learning_rate_set_during_training_is_used():
    opt = optimizers.Adam(lr=0.01)
    params, g = np.ones(4, F32), np.full(4, 0.5, F32)
    opt.apply_gradients_flat(params, g.copy(), [(0, 4)])
    K.set_value(opt.lr, 0.0)
    before = params.copy()
    opt.apply_gradients_flat(params, g.copy(), [(0, 4)])
    np.testing.assert_array_equal(params, before)
    opt.learning_rate = 0.02
    assert K.get_value(opt.lr) == pytest.approx(0.02)


@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adam", "adamax", "nadam"])
def test_clipvalue_and_clipnorm_reach_the_update(name):
    def step(**clip):
        opt = getattr(optimizers, name)(**clip)
        params = np.ones(4, F32)
        opt.apply_gradients_flat(params, np.array([3.0, -4.0, 0.0, 0.0], F32), [(0, 2), (2, 2)])
        return params

    def step_with(g):
        opt = getattr(optimizers, name)()
        params = np.ones(4, F32)
        opt.apply_gradients_flat(params, np.array(g, F32), [(0, 4)])
        return params

    np.testing.assert_array_equal(step(clipvalue=1.0), step_with([1.0, -1.0, 0.0, 0.0]))
    np.testing.assert_allclose(step(clipnorm=1.0), step_with([0.6, -0.8, 0.0, 0.0]), rtol=1e-6)


# Keras 2.2.4's get_gradients: norm = sqrt(sum over every gradient of sum(g^2)), then each g
# becomes g * c / norm when norm >= c: one global norm, not each weight's own (tf-keras 2.x's
# clipnorm; its global_clipnorm is 2.2.4's rule, accepted under that name too, but with
# tf-keras' order against clipvalue).
@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam"])
@pytest.mark.parametrize("key", ["clipnorm", "global_clipnorm"])
def test_clipnorm_scales_every_gradient_by_the_global_norm(name, key):
    r = rng(71)
    sizes = [6, 3, 17]
    segments, offset = [], 0
    for size in sizes:
        segments.append((offset, size))
        offset += size
    g = (3.0 * r.standard_normal(offset)).astype(F32)
    start = r.standard_normal(offset).astype(F32)
    norm = np.sqrt(np.sum(g.astype(np.float64) ** 2))  # float64 reference of the global norm

    def step(grads, **clip):
        opt = getattr(optimizers, name)(**clip)
        params = start.copy()
        opt.apply_gradients_flat(params, grads.astype(F32), segments)
        return params

    c = 0.5 * norm  # below the global norm, above the smallest weight's own norm
    assert c > min(np.sqrt(np.sum(g[o:o + n].astype(np.float64) ** 2)) for o, n in segments)
    want = step((g.astype(np.float64) * (c / norm)).astype(F32))
    np.testing.assert_allclose(step(g, **{key: c}), want, rtol=2e-6, atol=1e-7)
    # at or above the global norm nothing is scaled, though every weight's own norm is below it
    np.testing.assert_array_equal(step(g, **{key: 1.5 * norm}), step(g))
    # clipvalue applies after clipnorm (Keras 2.2.4's order), before global_clipnorm (tf-keras')
    v = 0.1 * float(np.abs(g).max()) * c / norm
    if key == "clipnorm":
        want = step(np.clip(g.astype(np.float64) * (c / norm), -v, v).astype(F32))
    else:
        clipped = np.clip(g.astype(np.float64), -v, v)
        clipped_norm = np.sqrt(np.sum(clipped ** 2))
        want = step((clipped * min(1.0, c / clipped_norm)).astype(F32))
    np.testing.assert_allclose(step(g, **{key: c}, clipvalue=v), want, rtol=2e-6, atol=1e-7)


def test_clipnorm_is_global_in_training():
    """One SGD step of a two-layer model: the clipped update is the unclipped one scaled by
    clipnorm / (the norm of all four weights' gradients together), float64 reference."""
    r = rng(72)
    x = r.standard_normal((32, 5)).astype(F32)
    y = r.standard_normal((32, 3)).astype(F32)

    def one_step(**clip):
        model = Sequential([Dense(7, activation="tanh", input_dim=5), Dense(3)])
        model.set_weights([w.astype(F32) for w in weights])
        model.compile(optimizers.SGD(lr=0.5, **clip), "mse")
        model.train_on_batch(x, y)
        return [w.astype(np.float64) for w in model.get_weights()]

    model = Sequential([Dense(7, activation="tanh", input_dim=5), Dense(3)])
    weights = [r.standard_normal(w.shape).astype(F32) for w in model.get_weights()]
    grads = [(w0 - w1) / 0.5 for w0, w1 in zip([w.astype(np.float64) for w in weights], one_step())]
    norm = np.sqrt(sum(np.sum(gr * gr) for gr in grads))
    c = 0.3 * norm
    assert all(np.sqrt(np.sum(gr * gr)) < norm for gr in grads)
    for got, w0, gr in zip(one_step(clipnorm=c), weights, grads):
        np.testing.assert_allclose(got, w0 - 0.5 * gr * (c / norm), rtol=1e-5, atol=1e-6)


def test_clipnorm_and_global_clipnorm_together_are_refused():
    with pytest.raises(ValueError, match="clipnorm or global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=2.0)
    with pytest.raises(ValueError, match="global_clipnorm must be positive"):
        optimizers.SGD(global_clipnorm=0.0)
    cfg = optimizers.RMSprop(global_clipnorm=2.5).get_config()
    assert cfg["global_clipnorm"] == 2.5 and "clipnorm" not in cfg
    assert optimizers.RMSprop.from_config(cfg).get_config() == cfg


# ---------------------------------------------------------------------------
# Names, aliases, defaults (SPEC table: Keras 2.2.4) and configs
# ---------------------------------------------------------------------------
CLASSES = {"adagrad": optimizers.Adagrad, "adadelta": optimizers.Adadelta, "adam": optimizers.Adam,
           "adamax": optimizers.Adamax, "nadam": optimizers.Nadam}
DEFAULTS = {
    "adagrad": dict(lr=0.01, decay=0.0, epsilon=1e-7),
    "adadelta": dict(lr=1.0, rho=0.95, decay=0.0, epsilon=1e-7),
    "adam": dict(lr=0.001, beta_1=0.9, beta_2=0.999, decay=0.0, epsilon=1e-7, amsgrad=False),
    "adamax": dict(lr=0.002, beta_1=0.9, beta_2=0.999, decay=0.0, epsilon=1e-7),
    "nadam": dict(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=1e-7, schedule_decay=0.004),
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_string_id_and_lower_case_alias(name):
    cls = CLASSES[name]
    assert type(optimizers.get(name)) is cls
    assert type(optimizers.get(name.upper())) is cls
    assert getattr(optimizers, name) is cls
    assert getattr(keras.optimizers, cls.__name__) is cls
    alias = getattr(optimizers, name)(lr=0.125)
    assert K.get_value(alias.lr) == 0.125


@pytest.mark.parametrize("name", list(CLASSES))
def test_defaults_are_keras224(name):
    cfg = CLASSES[name]().get_config()
    assert set(cfg) == set(DEFAULTS[name])
    for key, want in DEFAULTS[name].items():
        assert cfg[key] == pytest.approx(want, rel=1e-7), key


@pytest.mark.parametrize("name", list(CLASSES))
def test_lr_and_learning_rate_spellings(name):
    cls = CLASSES[name]
    assert K.get_value(cls(lr=0.25).lr) == 0.25
    assert K.get_value(cls(learning_rate=0.25).learning_rate) == 0.25
    assert K.get_value(cls(0.25).lr) == 0.25


@pytest.mark.parametrize("name", list(CLASSES))
def test_get_config_round_trip(name):
    cls = CLASSES[name]
    extra = {"adagrad": dict(initial_accumulator_value=0.2), "adadelta": dict(rho=0.5),
             "adam": dict(beta_1=0.5, amsgrad=True), "adamax": dict(beta_2=0.5),
             "nadam": dict(schedule_decay=0.01)}[name]
    opt = cls(lr=0.5, decay=0.25, epsilon=1e-5, clipnorm=2.0, clipvalue=3.0, **extra)
    cfg = opt.get_config()
    for key, value in dict(extra, lr=0.5, decay=0.25, epsilon=1e-5, clipnorm=2.0, clipvalue=3.0).items():
        assert cfg[key] == value, key
    assert cls.from_config(cfg).get_config() == cfg
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is cls and again.get_config() == cfg


BAD_ARGS = [
    (optimizers.Adam, dict(beta_1=1.0), ValueError, "beta_1"),
    (optimizers.Adam, dict(beta_2=-0.1), ValueError, "beta_2"),
    (optimizers.Adam, dict(epsilon=-1.0), ValueError, "epsilon"),
    (optimizers.Adam, dict(lr=-0.1), ValueError, "lr"),
    (optimizers.Adam, dict(momentum=0.9), TypeError, "momentum"),
    (optimizers.Adadelta, dict(rho=1.5), ValueError, "rho"),
    (optimizers.Adagrad, dict(initial_accumulator_value=-1.0), ValueError, "initial_accumulator_value"),
    (optimizers.Adamax, dict(beta_1="0.9"), ValueError, "beta_1"),
    (optimizers.Nadam, dict(schedule_decay=-0.004), ValueError, "schedule_decay"),
    (optimizers.Nadam, dict(amsgrad=True), TypeError, "amsgrad"),
]


@pytest.mark.parametrize("cls,kwargs,error,pattern", BAD_ARGS)
def test_bad_arguments(cls, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        cls(**kwargs)


@pytest.mark.parametrize("name", list(CLASSES))
def test_compile_by_name_trains(name):
    r = rng(70)
    x = r.standard_normal((64, 6)).astype(F32)
    y = (x @ r.standard_normal((6, 2))).astype(F32)
    model = Sequential([Dense(8, activation="tanh", input_dim=6), Dense(2)])
    model.compile(name, "mse")
    first = model.train_on_batch(x, y)
    for _ in range(30):
        last = model.train_on_batch(x, y)
    assert last < first


# ---------------------------------------------------------------------------
# get_config: exactly Keras 2.2.4's keys (keras/optimizers.py at tag 2.2.4), seqnet's
# extra options only when they change the update, clipnorm / clipvalue only when set.
# ---------------------------------------------------------------------------
KERAS224_KEYS = {
    optimizers.SGD: {"lr", "momentum", "decay", "nesterov"},
    optimizers.RMSprop: {"lr", "rho", "decay", "epsilon"},
    optimizers.Adagrad: {"lr", "decay", "epsilon"},
    optimizers.Adadelta: {"lr", "rho", "decay", "epsilon"},
    optimizers.Adam: {"lr", "beta_1", "beta_2", "decay", "epsilon", "amsgrad"},
    optimizers.Adamax: {"lr", "beta_1", "beta_2", "decay", "epsilon"},
    optimizers.Nadam: {"lr", "beta_1", "beta_2", "epsilon", "schedule_decay"},
}


@pytest.mark.parametrize("cls", list(KERAS224_KEYS), ids=lambda c: c.__name__)
def test_get_config_has_exactly_the_keras224_keys(cls):
    assert set(cls().get_config()) == KERAS224_KEYS[cls]
    assert set(cls(clipnorm=1.0).get_config()) == KERAS224_KEYS[cls] | {"clipnorm"}
    clipped = cls(clipnorm=1.0, clipvalue=0.5).get_config()
    assert set(clipped) == KERAS224_KEYS[cls] | {"clipnorm", "clipvalue"}
    assert clipped["clipnorm"] == 1.0 and clipped["clipvalue"] == 0.5
    assert cls.from_config(clipped).get_config() == clipped
    serialized = optimizers.serialize(cls())
    assert serialized["class_name"] == cls.__name__ and set(serialized["config"]) == KERAS224_KEYS[cls]


@pytest.mark.parametrize("cls,extra", [
    (optimizers.RMSprop, dict(momentum=0.5)),
    (optimizers.RMSprop, dict(centered=True)),
    (optimizers.RMSprop, dict(momentum=0.5, centered=True)),
    (optimizers.Adagrad, dict(initial_accumulator_value=0.1)),
    (optimizers.Nadam, dict(decay=0.01)),
], ids=lambda v: v.__name__ if isinstance(v, type) else "-".join(sorted(v)))
def test_seqnet_extras_appear_only_when_they_matter_and_round_trip(cls, extra):
    opt = cls(**extra)
    config = opt.get_config()
    assert set(config) == KERAS224_KEYS[cls] | set(extra)
    for key, value in extra.items():
        assert config[key] == pytest.approx(value, rel=1e-7)  # decay is a float32 variable
    clone = cls.from_config(config)
    assert clone.get_config() == config


def test_optimizer_deserialize_by_any_case_and_custom_objects():
    from seqnet.utils import custom_object_scope

    class Tuned(optimizers.SGD):
        pass

    assert type(optimizers.deserialize({"class_name": "ADAM", "config": {"lr": 0.5}})) is optimizers.Adam
    assert type(optimizers.deserialize({"class_name": "Tuned", "config": {}}, {"Tuned": Tuned})) is Tuned
    with custom_object_scope({"Tuned": Tuned}):
        assert type(optimizers.get("Tuned")) is Tuned
    with pytest.raises(ValueError, match="Unknown optimizer: Tuned"):
        optimizers.get("Tuned")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(3)


# Every optimizer update, with its slots: the KERNELS above plus RMSprop and SGD's momentum.
FLUSH_CASES = {
    **{name: (slots, call) for name, (slots, call, _) in KERNELS.items()},
    "rmsprop": (("a",), lambda p, g, s, t: E.rmsprop_update(p, g, s["a"], None, None, LR, RHO, 0.0, EPS)),
    "rmsprop_momentum": (("a", "mom"), lambda p, g, s, t: E.rmsprop_update(p, g, s["a"], s["mom"], None, LR, RHO,
                                                                            0.5, EPS)),
    "sgd_momentum": (("v",), lambda p, g, s, t: E.sgd_update(p, g, s["v"], LR, 0.9, False)),
}


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "aarch64", "arm64"),
                    reason="the engine flushes subnormals through x86's MXCSR (FTZ/DAZ) and AArch64's FPCR.FZ only; this CPU is neither")
@pytest.mark.parametrize("n", [100, 70001])  # one thread, and the threaded split
@pytest.mark.parametrize("name", list(FLUSH_CASES))
def test_subnormal_slots_update_as_zero_slots(name, n, isa, restore_threads):
    """A slot that decayed into the subnormal range (RMSprop's mean square or SGD's momentum
    where the gradient stays 0: a dead ReLU unit, a pixel that is always 0) is read as 0 and
    results that small are stored as 0 (each subnormal would cost an assist of about a hundred
    cycles per update): the update gives exactly the bits it gives on zero slots, on every
    thread, and leaves the caller's floating-point mode as it was."""
    E.set_num_threads(2)
    slot_names, call = FLUSH_CASES[name]
    g = rng(8).standard_normal(n).astype(F32)
    g[::3] = 0.0
    results = []
    for start in (F32(3e-39), F32(0.0)):  # 3e-39: subnormal (below 2**-126)
        p = rng(7).standard_normal(n).astype(F32)
        slots = {key: np.full(n, start, F32) for key in slot_names}
        call(p, g.copy(), slots, 1)
        results.append((p, slots))
    (p_sub, s_sub), (p_zero, s_zero) = results
    np.testing.assert_array_equal(bits(p_sub), bits(p_zero))
    for key in slot_names:
        np.testing.assert_array_equal(bits(s_sub[key]), bits(s_zero[key]), err_msg=key)
    assert np.float32(3e-39) * np.float32(0.5) != 0.0  # this thread still computes subnormals


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam"])
def test_lr_and_learning_rate_together_must_agree(name):
    cls = getattr(optimizers, name)
    assert K.get_value(cls(learning_rate=0.125).lr) == 0.125
    assert K.get_value(cls(lr=0.125, learning_rate=0.125).lr) == 0.125
    with pytest.raises(ValueError, match=rf"{name}: give lr or learning_rate .* got lr=0\.25 and learning_rate=0\.125"):
        cls(lr=0.25, learning_rate=0.125)
