"""seqnet.preprocessing.image: the affine warp against np.rot90 / np.roll / np.flip and a
hand-computed bilinear map, the statistics against NumPy float64, and the batch iterator
(every sample once per epoch, reproducible, feeding fit_generator)."""
import math

import numpy as np
import pytest

import seqnet
from seqnet.layers import Conv2D, Dense, Flatten, MaxPooling2D
from seqnet.models import Sequential
from seqnet.preprocessing import image
from seqnet.preprocessing.image import ImageDataGenerator, NumpyArrayIterator, apply_affine_transform
from seqnet.utils import Sequence

RNG = np.random.RandomState(0)
IMG = RNG.rand(5, 6, 2)  # rows, cols, channels: odd and even sizes, two channels


def square(n=5, channels=2, seed=1):
    return np.random.RandomState(seed).rand(n, n, channels)


# ---- the warp -------------------------------------------------------------------------------
def test_identity_transform_returns_the_input():
    gen = ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(IMG, {}), IMG)
    np.testing.assert_array_equal(gen.random_transform(IMG, seed=3), IMG)
    params = gen.get_random_transform(IMG.shape, seed=3)
    assert params["theta"] == 0 and params["tx"] == 0 and params["zx"] == 1 and not params["flip_horizontal"]
    np.testing.assert_array_equal(apply_affine_transform(IMG, theta=0, zx=1, zy=1), IMG)
    # an explicit identity matrix (zoom 1 + 1e-12 forces the warp path) reads every pixel back
    np.testing.assert_allclose(apply_affine_transform(IMG, zx=1 + 1e-12, fill_mode="constant"), IMG, atol=1e-9)


@pytest.mark.parametrize("n", [4, 5])
def test_rotation_by_right_angles_matches_rot90(n):
    x = square(n)
    # positive theta turns the (row, col) grid clockwise: np.rot90 with k = -1
    np.testing.assert_allclose(apply_affine_transform(x, theta=90, fill_mode="constant", cval=-9), np.rot90(x, -1),
                               atol=1e-12)
    np.testing.assert_allclose(apply_affine_transform(x, theta=-90), np.rot90(x, 1), atol=1e-12)
    np.testing.assert_allclose(apply_affine_transform(x, theta=180), np.rot90(x, 2), atol=1e-12)


def test_rotation_channels_first():
    x = square(4)
    gen = ImageDataGenerator(data_format="channels_first")
    out = gen.apply_transform(np.moveaxis(x, 2, 0), {"theta": 90})
    np.testing.assert_allclose(out, np.moveaxis(np.rot90(x, -1), 2, 0), atol=1e-12)


def shifted_reference(x, shift, axis, fill_mode, cval):
    """x shifted by `shift` whole pixels along `axis` (output i reads input i + shift),
    built from np.roll with the wrapped-in border replaced by the fill mode's pixels."""
    n = x.shape[axis]
    out = np.roll(x, -shift, axis=axis)
    if fill_mode == "wrap":
        return out
    for i in range(n):
        src = i + shift
        if 0 <= src < n:
            continue
        if fill_mode == "constant":
            value = np.full_like(np.take(x, 0, axis=axis), cval)
        elif fill_mode == "nearest":
            value = np.take(x, min(max(src, 0), n - 1), axis=axis)
        else:  # reflect: d c b a | a b c d | d c b a
            value = np.take(x, -src - 1 if src < 0 else 2 * n - 1 - src, axis=axis)
        index = [slice(None)] * x.ndim
        index[axis] = i
        out[tuple(index)] = value
    return out


@pytest.mark.parametrize("fill_mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("shift", [1, 2, -3])
def test_integer_shifts_match_roll_with_fill(fill_mode, shift):
    x = IMG
    rows = apply_affine_transform(x, tx=shift, fill_mode=fill_mode, cval=-1.5)
    cols = apply_affine_transform(x, ty=shift, fill_mode=fill_mode, cval=-1.5)
    np.testing.assert_allclose(rows, shifted_reference(x, shift, 0, fill_mode, -1.5), atol=1e-12)
    np.testing.assert_allclose(cols, shifted_reference(x, shift, 1, fill_mode, -1.5), atol=1e-12)
    # the border pixels themselves, spelled out for a shift of +1 along the rows
    if shift == 1:
        last = {"nearest": x[-1], "constant": np.full_like(x[-1], -1.5), "reflect": x[-1], "wrap": x[0]}[fill_mode]
        np.testing.assert_allclose(rows[-1], last, atol=1e-12)
        np.testing.assert_allclose(rows[:-1], x[1:], atol=1e-12)


def test_flips_match_np_flip():
    gen = ImageDataGenerator(horizontal_flip=True, vertical_flip=True)
    np.testing.assert_array_equal(gen.apply_transform(IMG, {"flip_horizontal": True}), np.flip(IMG, 1))
    np.testing.assert_array_equal(gen.apply_transform(IMG, {"flip_vertical": True}), np.flip(IMG, 0))
    gen_cf = ImageDataGenerator(horizontal_flip=True, data_format="channels_first")
    x_cf = np.moveaxis(IMG, 2, 0)
    np.testing.assert_array_equal(gen_cf.apply_transform(x_cf, {"flip_horizontal": True}), np.flip(x_cf, 2))
    # random flips: both outcomes occur, and each output is one of them
    only_h = ImageDataGenerator(horizontal_flip=True)
    seen = set()
    for seed in range(20):
        out = only_h.random_transform(IMG, seed=seed)
        flipped = np.array_equal(out, np.flip(IMG, 1))
        assert flipped or np.array_equal(out, IMG)
        seen.add(flipped)
    assert seen == {True, False}


def bilinear_at(x, r, c):
    """x (h, w, ch) read at real (r, c) inside the image, by the textbook formula."""
    r0, c0 = int(math.floor(r)), int(math.floor(c))
    r1, c1 = min(r0 + 1, x.shape[0] - 1), min(c0 + 1, x.shape[1] - 1)
    fr, fc = r - r0, c - c0
    return ((1 - fr) * (1 - fc) * x[r0, c0] + (1 - fr) * fc * x[r0, c1]
            + fr * (1 - fc) * x[r1, c0] + fr * fc * x[r1, c1])


def test_zoom_and_shear_against_a_direct_affine_map():
    x = np.random.RandomState(4).rand(9, 11, 3)
    cr, cc = (9 - 1) / 2, (11 - 1) / 2
    zx, zy = 0.8, 1.3
    zoomed = apply_affine_transform(x, zx=zx, zy=zy)
    shear = 20.0
    sheared = apply_affine_transform(x, shear=shear)
    s = math.radians(shear)
    for i, j in [(0, 2), (2, 3), (4, 5), (6, 8), (8, 7), (3, 7)]:  # points that read inside the image
        # output (i, j) reads the input at centre + M (p - centre)
        r, c = cr + zx * (i - cr), cc + zy * (j - cc)
        assert 0 <= r <= 8 and 0 <= c <= 10
        np.testing.assert_allclose(zoomed[i, j], bilinear_at(x, r, c), rtol=1e-12, err_msg=f"zoom at {(i, j)}")
        r, c = cr + (i - cr) - math.sin(s) * (j - cc), cc + math.cos(s) * (j - cc)
        assert 0 <= r <= 8 and 0 <= c <= 10
        np.testing.assert_allclose(sheared[i, j], bilinear_at(x, r, c), rtol=1e-12, err_msg=f"shear at {(i, j)}")
    # a point reading outside takes the nearest edge pixel (fill_mode='nearest')
    np.testing.assert_allclose(zoomed[0, 0], bilinear_at(x, cr + zx * (0 - cr), 0.0), rtol=1e-12)
    # a fractional shift reads between pixels
    half = apply_affine_transform(x, tx=0.5, ty=0.25)
    np.testing.assert_allclose(half[3, 4], bilinear_at(x, 3.5, 4.25), rtol=1e-12)


@pytest.mark.parametrize("fill_mode,scipy_mode", [("nearest", "nearest"), ("constant", "constant"),
                                                  ("reflect", "reflect"), ("wrap", "grid-wrap")])
def test_combined_warp_matches_scipy_ndimage_when_available(fill_mode, scipy_mode):
    ndimage = pytest.importorskip("scipy.ndimage")
    params = dict(theta=-37.0, tx=0.6, ty=-1.7, shear=12.0, zx=1.15, zy=0.85)
    t, s = np.deg2rad(params["theta"]), np.deg2rad(params["shear"])
    m = (np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
         @ np.array([[1, 0, params["tx"]], [0, 1, params["ty"]], [0, 0, 1]])
         @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]) @ np.diag([params["zx"], params["zy"], 1]))
    m = image.transform_matrix_offset_center(m, *IMG.shape[:2])
    ref = np.stack([ndimage.affine_transform(IMG[..., k], m[:2, :2], m[:2, 2], order=1, mode=scipy_mode, cval=0.4)
                    for k in range(IMG.shape[2])], axis=-1)
    np.testing.assert_allclose(apply_affine_transform(IMG, fill_mode=fill_mode, cval=0.4, **params), ref,
                               atol=1e-12)


def test_float32_images_keep_their_dtype_and_random_shifts_stay_in_range():
    x = square(8, 3).astype(np.float32)
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, height_shift_range=2, shear_range=10,
                             zoom_range=0.2, fill_mode="nearest")
    for seed in range(5):
        out = gen.random_transform(x, seed=seed)
        assert out.dtype == np.float32 and out.shape == x.shape
        assert x.min() - 1e-6 <= out.min() and out.max() <= x.max() + 1e-6  # bilinear never overshoots
        params = gen.get_random_transform(x.shape, seed=seed)
        assert params["tx"] in (-1, 0, 1)  # height_shift_range=2: whole pixels in (-2, 2)
        assert abs(params["ty"]) <= 0.2 * 8 and abs(params["theta"]) <= 30 and 0.8 <= params["zx"] <= 1.2


def test_seeded_parameters_are_drawn_in_keras_order():
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.1, height_shift_range=0.2, shear_range=5,
                             zoom_range=[0.9, 1.1], horizontal_flip=True, channel_shift_range=3.0)
    r = np.random.RandomState(7)
    theta, tx, ty, shear = r.uniform(-30, 30), r.uniform(-0.2, 0.2) * 10, r.uniform(-0.1, 0.1) * 12, r.uniform(-5, 5)
    zx, zy = r.uniform(0.9, 1.1, 2)
    flip = r.random_sample() < 0.5
    r.random_sample()
    shift = r.uniform(-3, 3)
    p = gen.get_random_transform((10, 12, 3), seed=7)
    np.testing.assert_allclose([p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"],
                                p["channel_shift_intensity"]], [theta, tx, ty, shear, zx, zy, shift])
    assert p["flip_horizontal"] == flip and p["flip_vertical"] is False and p["brightness"] is None
    assert gen.get_random_transform((10, 12, 3), seed=7) == p


def test_channel_shift_and_brightness():
    x = np.random.RandomState(2).randint(0, 256, (4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(image.apply_channel_shift(x, 40.0), np.clip(x + 40, x.min(), x.max()))
    np.testing.assert_allclose(image.apply_brightness_shift(x, 0.5), np.floor(x * 0.5))
    np.testing.assert_allclose(image.apply_brightness_shift(x, 2.0), np.minimum(x * 2, 255))
    scaled = x / 255.0 * 2 - 1  # data outside 0..255 keeps its range
    out = image.apply_brightness_shift(scaled, 1.0)
    assert out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6
    gen = ImageDataGenerator(brightness_range=(0.5, 0.5))
    np.testing.assert_allclose(gen.random_transform(x, seed=0), np.floor(x * 0.5))


# ---- standardisation --------------------------------------------------------------------------
def test_featurewise_center_and_std_normalization_match_numpy():
    x = np.random.RandomState(5).rand(20, 6, 7, 3).astype(np.float32) * [1, 5, 10] + [0, 2, -3]
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x)
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(0, 1, 2))
    std = x64.std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean.reshape(-1), mean, rtol=1e-6)
    np.testing.assert_allclose(gen.std.reshape(-1), std, rtol=1e-6)
    assert gen.mean.shape == (1, 1, 3)
    np.testing.assert_allclose(gen.standardize(x[3]), (x64[3] - mean) / (std + 1e-7), rtol=1e-5, atol=1e-6)
    out = np.stack([gen.standardize(img) for img in x]).astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-5)
    # channels_first: statistics per channel on axis 1
    gen_cf = ImageDataGenerator(featurewise_center=True, data_format="channels_first")
    gen_cf.fit(np.moveaxis(x, 3, 1))
    assert gen_cf.mean.shape == (3, 1, 1)
    np.testing.assert_allclose(gen_cf.mean.reshape(-1), mean, rtol=1e-6)


def test_samplewise_rescale_and_preprocessing_function_order():
    x = np.random.RandomState(6).rand(4, 5, 3) * 100
    gen = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True)
    out = gen.standardize(x).astype(np.float64)
    assert abs(out.mean()) < 1e-5 and abs(out.std() - 1) < 1e-5
    calls = []

    def preprocess(img):
        calls.append(img.copy())
        return img + 1

    gen = ImageDataGenerator(rescale=0.5, preprocessing_function=preprocess)
    before = x.copy()
    np.testing.assert_allclose(gen.standardize(x), (x + 1) * 0.5, rtol=1e-6)  # function first, then rescale
    np.testing.assert_array_equal(x, before)  # the input is left alone
    assert len(calls) == 1 and gen.standardize(x).dtype == np.float32


def test_zca_whitening_matches_a_float64_reference():
    x = np.random.RandomState(8).rand(300, 4, 4, 1).astype(np.float32)
    x[..., 0] += np.linspace(0, 1, 16).reshape(4, 4)  # correlated, unequal features
    with pytest.warns(UserWarning, match="overrides setting of `featurewise_center`"):
        gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-5)
    gen.fit(x)
    flat = x.reshape(300, -1).astype(np.float64)
    flat = flat - flat.mean()  # featurewise_center: one mean per channel, and there is one channel
    sigma = flat.T @ flat / len(flat)
    evals, evecs = np.linalg.eigh(sigma)
    reference = evecs @ np.diag(1 / np.sqrt(evals + 1e-5)) @ evecs.T
    np.testing.assert_allclose(gen.principal_components, reference, rtol=1e-4, atol=1e-4)
    white = np.stack([gen.standardize(img) for img in x]).reshape(300, -1).astype(np.float64)
    cov = white.T @ white / len(white)
    np.testing.assert_allclose(cov, np.eye(16), atol=2e-3)


def test_standardize_warns_before_fit():
    gen = ImageDataGenerator(featurewise_center=True)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        gen.standardize(IMG)


def test_fit_with_augmentation_rounds():
    x = np.random.RandomState(9).rand(10, 6, 6, 1).astype(np.float32)
    gen = ImageDataGenerator(featurewise_center=True, horizontal_flip=True)
    gen.fit(x, augment=True, rounds=3, seed=1)
    # flips do not change a per-channel mean
    np.testing.assert_allclose(gen.mean.reshape(-1), x.astype(np.float64).mean(), rtol=1e-6)


# ---- flow -------------------------------------------------------------------------------
def labelled_images(n, size=4, channels=1):
    """Image k is filled with the value k, and its label is k."""
    x = np.repeat(np.arange(n, dtype=np.float32), size * size * channels).reshape(n, size, size, channels)
    return x, np.arange(n)


def ids_of(batch_x):
    return batch_x[:, 0, 0, 0].astype(int).tolist()


def test_flow_serves_every_sample_once_per_epoch_in_batches():
    x, y = labelled_images(37)
    it = ImageDataGenerator().flow(x, y, batch_size=8, seed=0)
    assert isinstance(it, Sequence) and isinstance(it, NumpyArrayIterator) and len(it) == 5
    orders = []
    for _epoch in range(2):
        batches = [it[i] for i in range(len(it))]
        assert [len(bx) for bx, _ in batches] == [8, 8, 8, 8, 5]
        for bx, by in batches:
            assert ids_of(bx) == by.tolist() and bx.dtype == np.float32
        order = [k for _, by in batches for k in by.tolist()]
        assert sorted(order) == list(range(37))
        orders.append(order)
        it.on_epoch_end()
    assert orders[0] != orders[1] and orders[0] != list(range(37))  # shuffled, anew each epoch
    plain = ImageDataGenerator().flow(x, y, batch_size=10, shuffle=False)
    assert [k for i in range(len(plain)) for k in plain[i][1].tolist()] == list(range(37))
    with pytest.raises(ValueError, match="length 4"):
        plain[4]


def test_flow_as_a_python_iterator_wraps_around():
    x, y = labelled_images(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, seed=1)
    first = [next(it) for _ in range(3)]
    assert [len(bx) for bx, _ in first] == [4, 4, 2]
    assert sorted(k for _, by in first for k in by.tolist()) == list(range(10))
    second = [it.next() for _ in range(3)]
    assert sorted(k for _, by in second for k in by.tolist()) == list(range(10))
    assert iter(it) is it


def test_flow_is_reproducible_with_a_seed():
    x = np.random.RandomState(3).rand(12, 8, 8, 3).astype(np.float32)
    y = np.arange(12)
    gen = ImageDataGenerator(rotation_range=20, width_shift_range=0.2, horizontal_flip=True, zoom_range=0.1)
    a, b, c = (gen.flow(x, y, batch_size=5, seed=s) for s in (11, 11, 12))
    for i in range(len(a)):
        xa, ya = a[i]
        xb, yb = b[i]
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])
    assert not np.array_equal(a[0][0], x[a[0][1]])  # augmented
    np.random.seed(5)
    d = gen.flow(x, y, batch_size=5)
    np.random.seed(5)
    e = gen.flow(x, y, batch_size=5)
    np.testing.assert_array_equal(d[1][0], e[1][0])  # no seed: NumPy's global seed decides


def test_flow_outputs_sample_weights_and_extra_inputs():
    x, y = labelled_images(6)
    w = np.arange(6) / 10.0
    bx, by, bw = ImageDataGenerator().flow(x, y, batch_size=6, sample_weight=w, shuffle=False)[0]
    np.testing.assert_allclose(bw, w)
    only_x = ImageDataGenerator().flow(x, batch_size=4, shuffle=False)[1]
    assert isinstance(only_x, np.ndarray) and ids_of(only_x) == [4, 5]
    extra = np.arange(6) * 100
    (bx, bextra), by = ImageDataGenerator().flow((x, extra), y, batch_size=3, shuffle=False)[1]
    assert ids_of(bx) == [3, 4, 5] and bextra.tolist() == [300, 400, 500]


def test_validation_split_subsets_partition_the_data():
    x, y = labelled_images(20)
    y_classes = y % 2
    gen = ImageDataGenerator(validation_split=0.25)
    train = gen.flow(x, y_classes, batch_size=4, subset="training", seed=0)
    val = gen.flow(x, y_classes, batch_size=4, subset="validation", seed=0)
    train_ids = [k for i in range(len(train)) for k in ids_of(train[i][0])]
    val_ids = [k for i in range(len(val)) for k in ids_of(val[i][0])]
    assert sorted(val_ids) == list(range(5))  # the first fraction, as Keras
    assert sorted(train_ids) == list(range(5, 20))
    weighted = gen.flow(x, y_classes, sample_weight=np.arange(20.0), batch_size=20, subset="training", shuffle=False)
    bx, _, bw = weighted[0]
    assert ids_of(bx) == bw.astype(int).tolist() == list(range(5, 20))  # weights follow their samples
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, (y >= 5).astype(int), subset="training")


def tiny_model():
    seqnet.utils.set_random_seed(3)
    model = Sequential()
    model.add(Conv2D(4, (3, 3), activation="relu", padding="same", input_shape=(8, 8, 3)))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(2, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model


def test_training_a_conv_model_from_flow():
    rng = np.random.RandomState(0)
    x = rng.rand(40, 8, 8, 3).astype(np.float32)
    labels = (x[:, :, :, 0].mean(axis=(1, 2)) > 0.5).astype(int)
    y = seqnet.utils.to_categorical(labels, 2)
    gen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)
    model = tiny_model()
    history = model.fit_generator(gen.flow(x, y, batch_size=8), steps_per_epoch=5, epochs=2, verbose=0,
                                  validation_data=(x, y))
    assert len(history.history["loss"]) == 2 and all(np.isfinite(history.history["loss"]))
    assert "val_loss" in history.history
    history = model.fit(gen.flow(x, y, batch_size=8, seed=1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and all(np.isfinite(history.history["loss"]))
    loss, acc = model.evaluate_generator(ImageDataGenerator().flow(x, y, batch_size=16, shuffle=False))
    assert np.isfinite(loss) and 0 <= acc <= 1


# ---- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,name", [
    (dict(data_format="channels_middle"), "data_format"),
    (dict(fill_mode="mirror"), "fill_mode"),
    (dict(zoom_range=(0.5, 1.0, 2.0)), "zoom_range"),
    (dict(zoom_range="big"), "zoom_range"),
    (dict(validation_split=1.5), "validation_split"),
    (dict(brightness_range=0.5), "brightness_range"),
    (dict(width_shift_range="wide"), "width_shift_range"),
    (dict(height_shift_range=[[1, 2]]), "height_shift_range"),
    (dict(rotation_range="30"), "rotation_range"),
    (dict(rescale="1/255"), "rescale"),
    (dict(preprocessing_function=3), "preprocessing_function"),
    (dict(dtype="int32"), "dtype"),
    (dict(cval=None), "cval"),
])
def test_bad_generator_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ImageDataGenerator(**kwargs)


def test_bad_flow_and_fit_arguments():
    x, y = labelled_images(8)
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="rank 4"):
        gen.flow(x[0], y)
    with pytest.raises(ValueError, match="same length"):
        gen.flow(x, y[:5])
    with pytest.raises(ValueError, match="sample_weight"):
        gen.flow(x, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="batch_size"):
        gen.flow(x, y, batch_size=0)
    with pytest.raises(ValueError, match="subset"):
        gen.flow(x, y, subset="testing")
    with pytest.raises(ValueError, match="validation_split"):
        gen.flow(x, y, subset="validation")
    with pytest.raises(ValueError, match="save_to_dir"):
        gen.flow(x, y, save_to_dir="/nonexistent/seqnet-save-dir")
    with pytest.raises(ValueError, match="rank 4"):
        gen.fit(x[0])
    with pytest.raises(ValueError, match="rounds"):
        gen.fit(x, rounds=0)
    with pytest.raises(ValueError, match="fill_mode"):
        apply_affine_transform(IMG, theta=10, fill_mode="edge")
    with pytest.raises(ValueError, match="rank 3"):
        gen.apply_transform(x, {})
    with pytest.raises((ImportError, ValueError), match="flow_from_directory"):
        gen.flow_from_directory("/nonexistent")
    with pytest.warns(UserWarning, match="channels"):
        gen.flow(np.zeros((2, 4, 4, 5)), batch_size=1)


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_augmented_batches_do_not_depend_on_the_workers(use_multiprocessing):
    x = np.random.RandomState(1).rand(24, 8, 8, 3).astype(np.float32)
    gen = ImageDataGenerator(rotation_range=15, height_shift_range=0.2, horizontal_flip=True)
    model = tiny_model()
    on_main = model.predict_generator(gen.flow(x, batch_size=5, shuffle=False, seed=4), workers=0)
    in_workers = model.predict_generator(gen.flow(x, batch_size=5, shuffle=False, seed=4), workers=2,
                                         use_multiprocessing=use_multiprocessing)
    assert on_main.shape == (24, 2)
    np.testing.assert_array_equal(in_workers, on_main)
