"""Cropping1D/2D/3D, UpSampling1D/2D/3D (nearest, and tf-keras' half-pixel bilinear) and
ZeroPadding1D/2D/3D, in both data formats. Forward against float64 NumPy references
(slicing, np.pad, np.repeat, a direct per-pixel bilinear loop), backward against central
finite differences, parity with tf-keras (tests/fixtures/make_layer_fixtures_basic.py:
predict, training steps, a tf-keras-saved .h5), config and save/load round trips, masks
as Keras 2.2.4 (refused), and bad arguments."""
import numpy as np
import pytest

from basic_layer_fixtures import (check_gradient, check_predict_fixture, check_round_trip, check_tf_keras_h5,
                                  check_train_fixture, predict_cases, train_cases)
from seqnet import backend
from seqnet.layers import (Cropping1D, Cropping2D, Cropping3D, Embedding, Input, UpSampling1D, UpSampling2D,
                           UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)

RESHAPING = ("Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
             "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
CF, CL = "channels_first", "channels_last"


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def spatial_axes(rank, data_format):
    return tuple(range(2, 2 + rank)) if data_format == CF else tuple(range(1, 1 + rank))


def shape_for(rank, data_format, spatial, channels=2, batch=2):
    return (batch, channels) + spatial if data_format == CF else (batch,) + spatial + (channels,)


# ---- tf-keras parity --------------------------------------------------------------------------------
@pytest.mark.parametrize("case", predict_cases(RESHAPING))
def test_predict_matches_tf_keras(case):
    check_predict_fixture(case)


@pytest.mark.parametrize("case", train_cases(RESHAPING))
def test_training_steps_match_tf_keras(case):
    check_train_fixture(case)


def test_loads_a_tf_keras_h5_with_the_reshaping_layers():
    model = check_tf_keras_h5("reshaping")
    kinds = {type(layer).__name__: layer for layer in model.layers}
    assert kinds["Cropping1D"].cropping == (1, 2)
    assert kinds["Cropping2D"].cropping == ((1, 0), (2, 1)) and kinds["Cropping2D"].data_format == CF
    assert kinds["ZeroPadding3D"].padding == ((0, 1), (1, 0), (1, 1))
    assert kinds["UpSampling2D"].interpolation == "bilinear" and kinds["UpSampling2D"].size == (2, 3)
    assert kinds["UpSampling3D"].size == (2, 2, 2)


# ---- forward / backward against NumPy ---------------------------------------------------------------
CROPS = [(Cropping1D, {"cropping": (1, 2)}, CL, (6,)),
         (Cropping1D, {"cropping": 2}, CL, (5,)),
         (Cropping2D, {"cropping": ((1, 0), (2, 1))}, CL, (4, 5)),
         (Cropping2D, {"cropping": (1, 2), "data_format": CF}, CF, (4, 6)),
         (Cropping2D, {"cropping": 0}, CL, (2, 3)),
         (Cropping3D, {"cropping": 1}, CL, (3, 4, 3)),
         (Cropping3D, {"cropping": ((0, 1), (1, 0), (2, 1)), "data_format": CF}, CF, (2, 3, 4))]


@pytest.mark.parametrize("cls, kwargs, data_format, spatial", CROPS)
def test_cropping(cls, kwargs, data_format, spatial):
    layer = cls(**kwargs)
    pairs = [layer.cropping] if cls is Cropping1D else layer.cropping
    x = normal(shape_for(len(spatial), data_format, spatial), 1)
    slices = [slice(None)] * x.ndim
    for (before, after), axis in zip(pairs, spatial_axes(len(spatial), data_format)):
        slices[axis] = slice(before, x.shape[axis] - after)
    y, _, _ = check_gradient(layer, x, lambda a: a[tuple(slices)])
    assert (None,) + y.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])


PADS = [(ZeroPadding1D, {"padding": (2, 1)}, CL, (3,)),
        (ZeroPadding1D, {}, CL, (3,)),
        (ZeroPadding2D, {"padding": ((1, 0), (2, 1))}, CL, (2, 3)),
        (ZeroPadding2D, {"padding": 1, "data_format": CF}, CF, (3, 2)),
        (ZeroPadding3D, {"padding": (1, 0, 2)}, CL, (2, 2, 1)),
        (ZeroPadding3D, {"padding": ((0, 1), (1, 0), (2, 1)), "data_format": CF}, CF, (2, 1, 2))]


@pytest.mark.parametrize("cls, kwargs, data_format, spatial", PADS)
def test_zero_padding(cls, kwargs, data_format, spatial):
    layer = cls(**kwargs)
    pairs = [layer.padding] if cls is ZeroPadding1D else layer.padding
    x = normal(shape_for(len(spatial), data_format, spatial), 2)
    widths = [(0, 0)] * x.ndim
    for pair, axis in zip(pairs, spatial_axes(len(spatial), data_format)):
        widths[axis] = pair
    y, _, _ = check_gradient(layer, x, lambda a: np.pad(a, widths))
    assert (None,) + y.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])


NEAREST = [(UpSampling1D, {"size": 3}, CL, (3,), (3,)),
           (UpSampling2D, {"size": (2, 3)}, CL, (2, 3), (2, 3)),
           (UpSampling2D, {"size": 2, "data_format": CF}, CF, (3, 2), (2, 2)),
           (UpSampling3D, {"size": (2, 1, 3)}, CL, (2, 2, 2), (2, 1, 3)),
           (UpSampling3D, {"size": 2, "data_format": CF}, CF, (1, 2, 2), (2, 2, 2))]


@pytest.mark.parametrize("cls, kwargs, data_format, spatial, factors", NEAREST)
def test_nearest_upsampling_repeats(cls, kwargs, data_format, spatial, factors):
    layer = cls(**kwargs)
    x = normal(shape_for(len(spatial), data_format, spatial), 3)

    def reference(a):
        for factor, axis in zip(factors, spatial_axes(len(spatial), data_format)):
            a = np.repeat(a, factor, axis=axis)
        return a

    y, _, _ = check_gradient(layer, x, reference)
    assert (None,) + y.shape[1:] == layer.compute_output_shape((None,) + x.shape[1:])


def bilinear_reference(image, factors):
    """tf.image.resize(method='bilinear', half_pixel_centers) of (h, w, c), one pixel at a time."""
    h, w, _ = image.shape
    out = np.zeros((h * factors[0], w * factors[1], image.shape[2]))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            sy, sx = (i + 0.5) / factors[0] - 0.5, (j + 0.5) / factors[1] - 0.5
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            fy, fx = sy - y0, sx - x0
            y0c, y1c = min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1)
            x0c, x1c = min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1)
            top = image[y0c, x0c] * (1 - fx) + image[y0c, x1c] * fx
            bottom = image[y1c, x0c] * (1 - fx) + image[y1c, x1c] * fx
            out[i, j] = top * (1 - fy) + bottom * fy
    return out


@pytest.mark.parametrize("data_format", [CL, CF])
@pytest.mark.parametrize("size, spatial", [((2, 3), (3, 2)), ((3, 2), (2, 4)), ((1, 2), (2, 2))])
def test_bilinear_upsampling(data_format, size, spatial):
    layer = UpSampling2D(size, data_format=data_format, interpolation="bilinear")
    x = normal(shape_for(2, data_format, spatial), 4)

    def reference(a):
        images = np.moveaxis(a, 1, -1) if data_format == CF else a
        out = np.stack([bilinear_reference(img, size) for img in images])
        return np.moveaxis(out, -1, 1) if data_format == CF else out

    check_gradient(layer, x, reference)


def test_undefined_spatial_sizes_stay_undefined():
    assert Cropping1D((1, 1)).compute_output_shape((None, None, 3)) == (None, None, 3)
    assert ZeroPadding2D(1).compute_output_shape((None, None, 4, 3)) == (None, None, 6, 3)
    assert UpSampling3D(2, data_format=CF).compute_output_shape((None, 3, None, 2, None)) == (None, 3, None, 4, None)


def test_cropping_checks_the_real_size_of_an_undefined_axis():
    layer = Cropping1D((2, 2))
    layer._build_for((None, None, 3))
    with pytest.raises(ValueError, match=r"Cropping1D '.*': cropping \(2, 2\) removes 4 of the 4 elements of "
                                         r"spatial axis 0.*\(2, 4, 3\)"):
        layer.forward(np.zeros((2, 4, 3), np.float32), False)


def test_data_format_defaults_to_the_backend_setting():
    saved = backend.image_data_format()
    backend.set_image_data_format(CF)
    try:
        assert ZeroPadding2D().data_format == CF and Cropping3D().data_format == CF
        assert UpSampling2D().data_format == CF
    finally:
        backend.set_image_data_format(saved)
    assert ZeroPadding2D().data_format == CL


# ---- masks (Keras 2.2.4: none of these layers supports them) ---------------------------------------------
@pytest.mark.parametrize("layer", [lambda: Cropping1D(1), lambda: ZeroPadding1D(1), lambda: UpSampling1D(2)])
def test_masks_are_refused(layer):
    h = Embedding(5, 3, mask_zero=True)(Input(shape=(6,)))
    with pytest.raises(TypeError, match="does not support masking"):
        layer()(h)


# ---- configs, save / load -----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape", [
    (lambda: Cropping1D((1, 2)), (5, 2)),
    (lambda: Cropping2D(((1, 0), (0, 1)), data_format=CF), (2, 3, 4)),
    (lambda: Cropping3D(1), (3, 3, 4, 2)),
    (lambda: ZeroPadding1D(2), (3, 2)),
    (lambda: ZeroPadding2D((1, 2)), (2, 3, 2)),
    (lambda: ZeroPadding3D(((0, 1), (1, 0), (1, 1)), data_format=CF), (2, 2, 1, 2)),
    (lambda: UpSampling1D(3), (3, 2)),
    (lambda: UpSampling2D((2, 1), interpolation="bilinear"), (2, 3, 2)),
    (lambda: UpSampling3D((1, 2, 1), data_format=CF), (2, 2, 1, 2)),
])
def test_config_and_save_load_round_trip(layer, shape, tmp_path):
    check_round_trip(layer(), shape, tmp_path)


def test_configs_hold_keras_keys_and_accept_json_lists():
    def keys(layer):
        return {k: v for k, v in layer.get_config().items() if k not in ("name", "trainable", "dtype")}

    assert keys(Cropping1D()) == {"cropping": (1, 1)}
    assert keys(Cropping2D(data_format=CL)) == {"cropping": ((0, 0), (0, 0)), "data_format": CL}
    assert keys(Cropping3D(data_format=CL)) == {"cropping": ((1, 1), (1, 1), (1, 1)), "data_format": CL}
    assert keys(ZeroPadding1D()) == {"padding": (1, 1)}
    assert keys(ZeroPadding2D(data_format=CL)) == {"padding": ((1, 1), (1, 1)), "data_format": CL}
    assert keys(ZeroPadding3D(data_format=CL)) == {"padding": ((1, 1), (1, 1), (1, 1)), "data_format": CL}
    assert keys(UpSampling1D()) == {"size": 2}
    assert keys(UpSampling2D(data_format=CL)) == {"size": (2, 2), "data_format": CL, "interpolation": "nearest"}
    assert keys(UpSampling3D(data_format=CL)) == {"size": (2, 2, 2), "data_format": CL}
    assert Cropping2D.from_config({"cropping": [[1, 2], [3, 4]], "data_format": CF}).cropping == ((1, 2), (3, 4))
    assert ZeroPadding3D.from_config({"padding": [1, 2, 3]}).padding == ((1, 1), (2, 2), (3, 3))
    assert UpSampling2D.from_config({"size": [2, 3], "interpolation": "BILINEAR"}).interpolation == "bilinear"


# ---- bad arguments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: Cropping1D(-1), r"Cropping1D '.*': cropping must be an int or a tuple of 2 ints, all non-negative, "
                             r"got -1"),
    (lambda: Cropping1D((1, 2, 3)), r"Cropping1D '.*': cropping"),
    (lambda: Cropping2D(((1, -1), (0, 0))), r"Cropping2D '.*': cropping must be an int, a tuple of 2 ints or a "
                                            r"tuple of 2 tuples of 2 ints"),
    (lambda: Cropping3D((1, 1)), r"Cropping3D '.*': cropping .*tuple of 3"),
    (lambda: ZeroPadding1D(-2), r"ZeroPadding1D '.*': padding must be"),
    (lambda: ZeroPadding2D((1, 2, 3)), r"ZeroPadding2D '.*': padding must be"),
    (lambda: ZeroPadding3D(1.5), r"ZeroPadding3D '.*': padding must be"),
    (lambda: UpSampling1D(0), r"UpSampling1D '.*': size must be a positive integer, got 0"),
    (lambda: UpSampling2D((2, -1)), r"UpSampling2D '.*': size must be a positive integer or a tuple of 2"),
    (lambda: UpSampling3D((2, 2)), r"UpSampling3D '.*': size"),
    (lambda: UpSampling2D(interpolation="bicubic"), r"UpSampling2D '.*': interpolation must be 'nearest' or "
                                                    r"'bilinear', got 'bicubic' \(a tf-keras method"),
    (lambda: ZeroPadding2D(data_format="NCHW"), r"ZeroPadding2D: data_format"),
])
def test_bad_arguments_raise_valueerror(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: Cropping1D((3, 3)), (5, 2), r"Cropping1D '.*': cropping \(3, 3\) removes 6 of the 5 elements of spatial "
                                         r"axis 0; it must leave at least one \(input shape \(None, 5, 2\)\)"),
    (lambda: Cropping2D(((0, 0), (2, 2)), data_format=CL), (3, 4, 2), r"Cropping2D '.*': .*removes 4 of the 4 "
                                                                      r"elements of spatial axis 1"),
    (lambda: Cropping3D(((1, 1), (0, 0), (0, 0)), data_format=CF), (2, 2, 3, 3), r"Cropping3D '.*'.*spatial axis 0"),
    (lambda: Cropping2D(1), (4, 4), r"Cropping2D '.*' expects inputs of rank 4 .*got shape \(None, 4, 4\)"),
    (lambda: ZeroPadding1D(1), (4,), r"ZeroPadding1D '.*' expects inputs of rank 3 .*got shape \(None, 4\)"),
    (lambda: UpSampling3D(2), (2, 2, 2), r"UpSampling3D '.*' expects inputs of rank 5"),
])
def test_bad_input_shapes_raise_valueerror_with_the_shapes(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(Input(shape=shape))
