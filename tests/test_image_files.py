"""seqnet.preprocessing.image with image files: load_img / img_to_array / array_to_img /
save_img against Pillow and NumPy, and flow_from_directory / flow_from_dataframe / save_to_dir
on small PNG and JPEG files written here (batches compared with the files decoded by
Pillow directly, class indices, subsets, seeds, corrupt files, training a model)."""
import errno
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import seqnet as keras
from seqnet.preprocessing import image
from seqnet.preprocessing.image import (DataFrameIterator, DirectoryIterator, ImageDataGenerator,
                                        InvalidImageWarning, array_to_img, img_to_array, list_pictures, load_img,
                                        save_img)
from seqnet.utils import Sequence

try:
    from PIL import Image as PIL_Image
except ImportError:  # the tests that need it skip (the `pillow` and `tree` fixtures)
    PIL_Image = None

H, W = 8, 10
# Created in this order on purpose: Keras numbers the classes in sorted order.
CLASS_SIZES = {"dog": 4, "cat": 5, "bird": 6}


def write_image(path, seed, size=(H, W), mode="RGB"):
    """A random image saved at `path` (format from its extension); returns its pixels."""
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    pixels = np.random.RandomState(seed).randint(0, 256, size + (channels,)).astype(np.uint8)
    PIL_Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(path)
    return pixels


def decoded(path, mode="RGB"):
    """The file as Pillow itself decodes it, float64 (rows, cols, channels)."""
    with PIL_Image.open(path) as img:
        x = np.asarray(img.convert(mode), dtype=np.float64)
    return x if x.ndim == 3 else x[..., None]


@pytest.fixture
def pillow():
    pytest.importorskip("PIL.Image", reason="the image file functions need Pillow (pip install Pillow)")


@pytest.fixture
def tree(tmp_path, pillow):
    """data/<class>/ with PNG and JPEG files (one in a nested folder, one upper-case
    extension) plus files that are not images by name."""
    root = tmp_path / "data"
    seed = 0
    for name, count in CLASS_SIZES.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            ext = ("png", "jpg", "PNG", "jpeg")[i % 4]
            path = root / name / f"img{i}.{ext}"
            if i == count - 1:
                (root / name / "nested").mkdir()
                path = root / name / "nested" / f"img{i}.png"
            write_image(str(path), seed)
            seed += 1
        (root / name / "notes.txt").write_text("not an image")
    (root / "README.md").write_text("a file beside the class folders is not a class")
    return root


def expected_files(root, subset=None, split=0.0):
    """Keras' listing, computed independently: class folders sorted, each walked in sorted
    order (folder path, then name), validation = first int(split * n) of each class."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(root / d))
    files, labels = [], []
    for index, name in enumerate(classes):
        found = []
        for folder, _, names in sorted(os.walk(root / name), key=lambda w: w[0]):
            found += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(names)
                      if f.lower().rsplit(".", 1)[-1] in ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")]
        cut = int(split * len(found))
        found = found[:cut] if subset == "validation" else found[cut:]
        files += found
        labels += [index] * len(found)
    return classes, files, labels


# ---- single images ----------------------------------------------------------------------
@pytest.mark.parametrize("color_mode,pil_mode", [("rgb", "RGB"), ("grayscale", "L"), ("rgba", "RGBA")])
def test_load_img_color_modes_match_pillow(pillow, tmp_path, color_mode, pil_mode):
    path = str(tmp_path / "a.png")
    write_image(path, 1, mode="RGBA")
    img = load_img(path, color_mode=color_mode)
    assert img.mode == pil_mode and img.size == (W, H)
    np.testing.assert_array_equal(img_to_array(img)[..., :], decoded(path, pil_mode))


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"])
def test_load_img_resizes_with_pillows_filters(pillow, tmp_path, interpolation):
    path = str(tmp_path / "a.png")
    write_image(path, 2)
    img = load_img(path, target_size=(5, 7), interpolation=interpolation)
    assert img.size == (7, 5)
    resampling = getattr(PIL_Image, "Resampling", PIL_Image)
    with PIL_Image.open(path) as ref:
        ref = ref.convert("RGB").resize((7, 5), getattr(resampling, interpolation.upper()))
    np.testing.assert_array_equal(np.asarray(img), np.asarray(ref))


def test_load_img_arguments(pillow, tmp_path):
    path = str(tmp_path / "a.png")
    pixels = write_image(path, 3)
    with pytest.raises(ValueError, match="interpolation"):
        load_img(path, target_size=(4, 4), interpolation="cubic")
    with pytest.raises(ValueError, match="color_mode"):
        load_img(path, color_mode="rbg")
    with pytest.raises(ValueError, match="target_size"):
        load_img(path, target_size=(4,))
    with pytest.warns(UserWarning, match="grayscale is deprecated"):
        assert load_img(path, grayscale=True).mode == "L"
    # a pathlib.Path and a file object work too
    np.testing.assert_array_equal(np.asarray(load_img(tmp_path / "a.png")), pixels)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(np.asarray(load_img(f)), pixels)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_img_to_array_and_array_to_img_round_trip(pillow, tmp_path, data_format):
    pixels = np.random.RandomState(4).randint(0, 256, (H, W, 3)).astype(np.uint8)
    img = PIL_Image.fromarray(pixels)
    x = img_to_array(img, data_format=data_format)
    assert x.dtype == np.float32
    ref = pixels.transpose(2, 0, 1) if data_format == "channels_first" else pixels
    np.testing.assert_array_equal(x, ref)
    assert img_to_array(img, dtype="float64").dtype == np.float64
    keras.backend.set_floatx("float64")
    try:
        assert img_to_array(img).dtype == np.float64  # default dtype: floatx(), as Keras 2.2.4
    finally:
        keras.backend.set_floatx("float32")
    gray = img_to_array(img.convert("L"), data_format=data_format)
    assert gray.shape == ((1, H, W) if data_format == "channels_first" else (H, W, 1))
    back = array_to_img(x, data_format=data_format, scale=False)
    assert back.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(back), pixels)
    for channels, mode in ((1, "L"), (4, "RGBA")):
        arr = np.random.RandomState(channels).randint(0, 256, (H, W, channels)).astype(np.float32)
        out = array_to_img(arr, data_format="channels_last", scale=False)
        assert out.mode == mode
        np.testing.assert_array_equal(img_to_array(out, data_format="channels_last"), arr)


def test_array_to_img_scaling_matches_keras_formula(pillow):
    x = np.random.RandomState(5).uniform(-2.0, 3.0, (H, W, 3))
    # Keras: shift so the minimum is >= 0, divide by the maximum, times 255, truncate
    shifted = x + max(-x.min(), 0)
    ref = np.trunc(shifted / shifted.max() * 255)
    out = np.asarray(array_to_img(x, data_format="channels_last"), dtype=np.float64)
    np.testing.assert_allclose(out, ref, atol=1)  # float32 arithmetic may land 1 level lower
    assert np.mean(out == ref) > 0.95
    assert np.asarray(array_to_img(np.zeros((2, 2, 3)), data_format="channels_last")).max() == 0
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel"):
        array_to_img(np.zeros((2, 2, 2)), data_format="channels_last")
    with pytest.raises(ValueError, match="data_format"):
        array_to_img(np.zeros((2, 2, 3)), data_format="nhwc")


def test_save_img_writes_files_pillow_reads_back(pillow, tmp_path):
    x = np.random.RandomState(6).randint(0, 256, (H, W, 3)).astype(np.float32)
    save_img(str(tmp_path / "a.png"), x, data_format="channels_last", scale=False)
    np.testing.assert_array_equal(decoded(tmp_path / "a.png"), x)
    save_img(str(tmp_path / "b.bin"), x, data_format="channels_last", file_format="jpg", quality=95)
    with PIL_Image.open(tmp_path / "b.bin") as img:
        assert img.format == "JPEG" and img.size == (W, H)
    rgba = np.random.RandomState(7).randint(0, 256, (H, W, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="RGBA"):
        save_img(str(tmp_path / "c.jpg"), rgba, data_format="channels_last", scale=False)
    with PIL_Image.open(tmp_path / "c.jpg") as img:
        assert img.mode == "RGB"
    with pytest.raises(ValueError, match="format"):
        save_img(str(tmp_path / "d.png"), x, data_format="channels_last", file_format="nosuchformat")


def test_list_pictures(tree):
    found = list_pictures(str(tree))
    assert found == sorted(found, key=lambda p: (os.path.dirname(p), os.path.basename(p)))
    names = {os.path.relpath(p, tree) for p in found}
    _, files, _ = expected_files(tree)
    assert names == set(files)  # notes.txt and README.md are left out
    assert {os.path.relpath(p, tree) for p in list_pictures(str(tree), ext="png")} == \
        {f for f in files if f.lower().endswith(".png")}


# ---- flow_from_directory ----------------------------------------------------------------
def test_directory_iterator_lists_classes_and_files_as_keras(tree, capsys):
    it = ImageDataGenerator().flow_from_directory(str(tree), target_size=(H, W), batch_size=4, shuffle=False)
    classes, files, labels = expected_files(tree)
    assert isinstance(it, DirectoryIterator) and isinstance(it, Sequence)
    assert it.class_indices == {"bird": 0, "cat": 1, "dog": 2} == {c: i for i, c in enumerate(classes)}
    assert it.filenames == files and it.samples == len(files) == sum(CLASS_SIZES.values())
    assert it.classes.dtype == np.int32 and it.classes.tolist() == labels and it.num_classes == 3
    assert it.filepaths == [os.path.join(str(tree), f) for f in files]
    assert len(it) == 4 and it.image_shape == (H, W, 3)
    wide = DirectoryIterator(str(tree), ImageDataGenerator(dtype="float64"), target_size=(H, W), batch_size=2)
    assert wide[0][0].dtype == np.float64 and wide[0][1].dtype == np.float64
    assert DirectoryIterator(str(tree), ImageDataGenerator(), dtype="float16", batch_size=2)[0][0].dtype == np.float16
    assert "Found 15 images belonging to 3 classes." in capsys.readouterr().out


def test_directory_batches_are_the_decoded_files(tree):
    it = ImageDataGenerator().flow_from_directory(str(tree), target_size=(H, W), batch_size=4, shuffle=False)
    _, files, labels = expected_files(tree)
    xs, ys = zip(*(it[i] for i in range(len(it))))
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(x, np.stack([decoded(tree / f) for f in files]))
    np.testing.assert_array_equal(y, np.eye(3)[labels])


@pytest.mark.parametrize("class_mode", ["binary", "sparse", "input", None])
def test_directory_class_modes(tree, class_mode):
    classes = ["cat", "dog"] if class_mode == "binary" else None
    it = ImageDataGenerator(rescale=1 / 255.).flow_from_directory(
        str(tree), target_size=(H, W), classes=classes, class_mode=class_mode, batch_size=32, shuffle=False)
    batch = it[0]
    names = classes or sorted(CLASS_SIZES)
    labels = np.concatenate([[i] * CLASS_SIZES[c] for i, c in enumerate(names)])
    ref_x = np.stack([decoded(os.path.join(str(tree), f)) for f in it.filenames]) / 255.
    if class_mode is None:
        np.testing.assert_allclose(batch, ref_x, rtol=1e-6)
        return
    x, y = batch
    np.testing.assert_allclose(x, ref_x, rtol=1e-6)
    if class_mode == "binary":
        assert it.class_indices == {"cat": 0, "dog": 1} and y.dtype == np.float32
        np.testing.assert_array_equal(y, labels)
    elif class_mode == "sparse":
        assert y.dtype == np.int32
        np.testing.assert_array_equal(y, labels)
    else:
        np.testing.assert_array_equal(y, x)
        assert y is not x


@pytest.mark.parametrize("color_mode,channels", [("grayscale", 1), ("rgba", 4)])
def test_directory_color_modes_resizing_and_channels_first(tree, color_mode, channels):
    gen = ImageDataGenerator(data_format="channels_first")
    it = gen.flow_from_directory(str(tree), target_size=(5, 6), color_mode=color_mode, interpolation="bilinear",
                                 batch_size=3, shuffle=False)
    x, _ = it[1]
    assert x.shape == (3, channels, 5, 6) and it.image_shape == (channels, 5, 6)
    resampling = getattr(PIL_Image, "Resampling", PIL_Image)
    mode = {"grayscale": "L", "rgba": "RGBA"}[color_mode]
    for k, name in enumerate(it.filenames[3:6]):
        with PIL_Image.open(os.path.join(str(tree), name)) as img:
            ref = np.asarray(img.convert(mode).resize((6, 5), resampling.BILINEAR), dtype=np.float64)
        ref = ref[None] if ref.ndim == 2 else ref.transpose(2, 0, 1)
        np.testing.assert_array_equal(x[k], ref)


def test_directory_subsets_split_each_class(tree):
    gen = ImageDataGenerator(validation_split=0.25)
    val = gen.flow_from_directory(str(tree), target_size=(H, W), subset="validation", shuffle=False)
    train = gen.flow_from_directory(str(tree), target_size=(H, W), subset="training", shuffle=False)
    for subset, it in (("validation", val), ("training", train)):
        _, files, labels = expected_files(tree, subset, 0.25)
        assert it.filenames == files and it.classes.tolist() == labels
    # int(0.25 * n) per class: bird 6 -> 1, cat 5 -> 1, dog 4 -> 1
    assert val.samples == 3 and train.samples == 12
    assert not set(val.filenames) & set(train.filenames)
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow_from_directory(str(tree), subset="validation")
    with pytest.raises(ValueError, match="subset"):
        gen.flow_from_directory(str(tree), subset="test")


def test_directory_shuffle_is_reproducible_with_a_seed(tree):
    gen = ImageDataGenerator()

    def epoch(it):
        xs = [it[i] for i in range(len(it))]
        it.on_epoch_end()
        return np.concatenate([x for x, _ in xs]), np.concatenate([y for _, y in xs])

    a = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=11)
    b = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=11)
    c = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=12)
    ordered = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=32, shuffle=False)
    ref_x, ref_y = ordered[0]
    first_a, first_b, first_c = epoch(a), epoch(b), epoch(c)
    second_a = epoch(a)
    for x, y in (first_a, first_c, second_a):
        order = [int(np.flatnonzero((ref_x == img).all(axis=(1, 2, 3)))[0]) for img in x]
        assert sorted(order) == list(range(15))  # each image once per epoch
        np.testing.assert_array_equal(y, ref_y[order])
    np.testing.assert_array_equal(first_a[0], first_b[0])
    assert not np.array_equal(first_a[0], first_c[0])
    assert not np.array_equal(first_a[0], second_a[0])  # a new order every epoch
    # the Python iterator protocol gives the same batches as indexing
    d = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=11)
    np.testing.assert_array_equal(np.concatenate([next(d)[0] for _ in range(4)]), first_a[0])


def test_directory_augmentation_and_standardization_match_flow(tree):
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, zoom_range=0.3, horizontal_flip=True,
                             brightness_range=(0.5, 1.5), samplewise_center=True, rescale=1 / 255.)
    it = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=5, shuffle=False, seed=3)
    x_files = np.stack([decoded(os.path.join(str(tree), f)) for f in it.filenames]).astype(np.float32)
    arrays = gen.flow(x_files, batch_size=5, shuffle=False, seed=3)
    for i in range(len(it)):
        np.testing.assert_array_equal(it[i][0], arrays[i])
    plain = ImageDataGenerator(rescale=1 / 255., samplewise_center=True)
    assert not np.allclose(it[0][0], plain.flow(x_files[:5], shuffle=False)[0])


def test_directory_save_to_dir_writes_the_augmented_images(tree, tmp_path):
    out = tmp_path / "saved"
    out.mkdir()
    gen = ImageDataGenerator(horizontal_flip=True)
    it = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, shuffle=False, seed=2,
                                 save_to_dir=str(out), save_prefix="aug", save_format="png")
    x, _ = it[1]
    saved = sorted(os.listdir(out))
    assert len(saved) == 4 and all(f.startswith("aug_") and f.endswith(".png") for f in saved)
    assert sorted(int(f.split("_")[1]) for f in saved) == [4, 5, 6, 7]
    by_index = {int(f.split("_")[1]): decoded(out / f) for f in saved}
    for k in range(4):
        np.testing.assert_array_equal(by_index[4 + k], np.asarray(array_to_img(x[k], "channels_last")))
    it[1]  # the same batch again: same names (the hash comes from the batch's seed)
    assert sorted(os.listdir(out)) == saved
    with pytest.raises(ValueError, match="save_to_dir"):
        gen.flow_from_directory(str(tree), save_to_dir=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="format"):
        gen.flow_from_directory(str(tree), save_to_dir=str(out), save_format="nosuchformat")


def test_flow_save_to_dir(pillow, tmp_path):
    x = np.random.RandomState(8).rand(5, H, W, 3).astype(np.float32)
    gen = ImageDataGenerator()
    it = gen.flow(x, np.arange(5), batch_size=3, shuffle=False, save_to_dir=str(tmp_path), save_prefix="p",
                  save_format="jpeg")
    batch_x, _ = it[0]
    saved = sorted(os.listdir(tmp_path))
    assert len(saved) == 3 and sorted(int(f.split("_")[1]) for f in saved) == [0, 1, 2]
    for f in saved:
        with PIL_Image.open(tmp_path / f) as img:
            assert img.format == "JPEG" and img.size == (W, H)
    gray = np.random.RandomState(9).rand(2, H, W, 1)
    gen.flow(gray, batch_size=2, save_to_dir=str(tmp_path), save_prefix="g")[0]
    assert len([f for f in os.listdir(tmp_path) if f.startswith("g_")]) == 2
    with pytest.raises(ValueError, match="channels"):
        gen.flow(np.zeros((2, H, W, 2)), save_to_dir=str(tmp_path))
    np.testing.assert_array_equal(batch_x, x[:3])


def test_corrupt_files_are_skipped_with_one_warning(tree):
    bad = {
        "cat/text.png": b"this is not a png",
        "cat/empty.jpg": b"",
        "dog/truncated.jpg": None,
        "dog/truncated.png": None,
    }
    jpeg = tree / "good.jpg"
    write_image(str(jpeg), 20, size=(32, 32))
    png = tree / "good.png"
    write_image(str(png), 21, size=(32, 32))
    bad["dog/truncated.jpg"] = jpeg.read_bytes()[:len(jpeg.read_bytes()) // 2]
    bad["dog/truncated.png"] = png.read_bytes()[:len(png.read_bytes()) // 2]
    for name, data in bad.items():
        (tree / name).write_bytes(data)
    os.symlink(str(tree / "gone.png"), str(tree / "cat" / "broken_link.png"))
    with pytest.warns(InvalidImageWarning) as record:
        it = ImageDataGenerator().flow_from_directory(str(tree), target_size=(H, W), batch_size=4)
    assert len(record) == 1
    message = str(record[0].message)
    for name in list(bad) + ["cat/broken_link.png"]:
        assert os.path.join(str(tree), name) in message
    assert "skipped 5 file(s)" in message
    assert it.samples == 15 and not set(it.filenames) & set(bad)
    assert sum(len(it[i][0]) for i in range(len(it))) == 15  # a whole epoch reads fine


def test_follow_links(tree, tmp_path):
    extra = tmp_path / "elsewhere"
    extra.mkdir()
    write_image(str(extra / "linked.png"), 30)
    os.symlink(str(extra), str(tree / "cat" / "link"))
    os.symlink(str(tree / "cat"), str(extra / "loop"))  # a cycle through the link
    gen = ImageDataGenerator()
    unfollowed = gen.flow_from_directory(str(tree), target_size=(H, W))
    followed = gen.flow_from_directory(str(tree), target_size=(H, W), follow_links=True)
    assert "cat/link/linked.png" not in unfollowed.filenames
    assert os.path.join("cat", "link", "linked.png") in followed.filenames
    assert followed.samples == unfollowed.samples + 1
    x, _ = followed[0]
    assert x.shape[1:] == (H, W, 3)


def test_bad_directories(tree, tmp_path):
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="directory"):
        gen.flow_from_directory(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="directory"):
        gen.flow_from_directory(str(tree / "cat" / "img0.png"))
    with pytest.raises(ValueError, match="horse"):
        gen.flow_from_directory(str(tree), classes=["cat", "horse"])
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="no images"):
        gen.flow_from_directory(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(str(tree), class_mode="other")
    with pytest.raises(ValueError, match="color_mode"):
        gen.flow_from_directory(str(tree), color_mode="rbg")
    with pytest.raises(ValueError, match="interpolation"):
        gen.flow_from_directory(str(tree), interpolation="cubic")
    with pytest.raises(ValueError, match="target_size"):
        gen.flow_from_directory(str(tree), target_size=256)
    with pytest.raises(ValueError, match="batch_size"):
        gen.flow_from_directory(str(tree), batch_size=0)


def test_unreadable_directory_is_a_clear_error(tree, monkeypatch):
    # simulated (the tests may run as root, who reads any directory)
    real_scandir = os.scandir

    def denied(path="."):
        raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    def scandir(path="."):
        return denied(path) if os.path.basename(os.fspath(path)) == "cat" else real_scandir(path)

    monkeypatch.setattr(os, "listdir", denied)
    with pytest.raises(PermissionError, match=re.escape(f"flow_from_directory: cannot read the directory '{tree}'")):
        ImageDataGenerator().flow_from_directory(str(tree))
    monkeypatch.undo()
    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(PermissionError, match="cannot read the directory .*cat"):
        ImageDataGenerator().flow_from_directory(str(tree))


def tiny_model(loss="categorical_crossentropy", outputs=3):
    keras.utils.set_random_seed(1)
    model = keras.models.Sequential()
    model.add(keras.layers.Conv2D(4, (3, 3), activation="relu", input_shape=(H, W, 3)))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(outputs, activation="softmax"))
    model.compile(loss=loss, optimizer="sgd", metrics=["accuracy"])
    return model


def test_fit_generator_and_fit_on_the_directory_iterator(tree):
    gen = ImageDataGenerator(rescale=1 / 255., horizontal_flip=True, validation_split=0.25)
    train = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=1, subset="training")
    val = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, seed=1, subset="validation")
    model = tiny_model()
    history = model.fit_generator(train, steps_per_epoch=len(train), epochs=1, validation_data=val, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and "val_loss" in history.history
    history = model.fit(train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    sparse = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, class_mode="sparse")
    history = tiny_model("sparse_categorical_crossentropy").fit_generator(sparse, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])

    def predict(**kwargs):  # a fresh iterator each time: the flips depend on the seed, epoch and batch only
        it = gen.flow_from_directory(str(tree), target_size=(H, W), batch_size=4, class_mode=None, shuffle=False,
                                     seed=5)
        return model.predict_generator(it, **kwargs)

    on_main = predict(workers=0)
    assert on_main.shape == (15, 3)
    np.testing.assert_array_equal(predict(workers=2), on_main)
    np.testing.assert_array_equal(predict(workers=2, use_multiprocessing=True), on_main)


# ---- flow_from_dataframe ----------------------------------------------------------------
@pytest.fixture
def frame(tree):
    pd = pytest.importorskip("pandas", reason="flow_from_dataframe needs pandas (pip install pandas)")
    _, files, _ = expected_files(tree)
    rng = np.random.RandomState(0)
    rows = [files[i] for i in rng.permutation(len(files))]
    labels = ["even" if i % 2 == 0 else "odd" for i in range(len(rows))]
    labels[3] = "zero"
    return pd.DataFrame({"filename": rows, "class": labels, "score": np.arange(len(rows)) / 10.0,
                         "size": np.arange(len(rows)) * 2})


def test_dataframe_iterator_keeps_the_dataframe_order(tree, frame, capsys):
    it = ImageDataGenerator().flow_from_dataframe(frame, str(tree), target_size=(H, W), batch_size=6, shuffle=False)
    assert isinstance(it, DataFrameIterator) and isinstance(it, Sequence)
    assert it.filenames == frame["filename"].tolist()
    assert it.class_indices == {"even": 0, "odd": 1, "zero": 2}
    labels = [it.class_indices[c] for c in frame["class"]]
    assert it.classes.tolist() == labels and it.samples == len(frame)
    assert "Found 15 images belonging to 3 classes." in capsys.readouterr().out
    x = np.concatenate([it[i][0] for i in range(len(it))])
    y = np.concatenate([it[i][1] for i in range(len(it))])
    np.testing.assert_array_equal(x, np.stack([decoded(tree / f) for f in frame["filename"]]))
    np.testing.assert_array_equal(y, np.eye(3)[labels])


def test_dataframe_class_modes(tree, frame):
    gen = ImageDataGenerator()
    it = gen.flow_from_dataframe(frame, str(tree), target_size=(H, W), class_mode="sparse", shuffle=False,
                                 classes=["odd", "even"])
    keep = frame["class"] != "zero"  # not among the classes asked for
    assert it.class_indices == {"odd": 0, "even": 1} and it.filenames == frame["filename"][keep].tolist()
    _, y = it[0]
    assert y.dtype == np.int32
    np.testing.assert_array_equal(y, (frame["class"][keep] == "even").astype(int).to_numpy()[:len(y)])
    other = gen.flow_from_dataframe(frame, str(tree), y_col=["score", "size"], class_mode="other",
                                    target_size=(H, W), batch_size=4, shuffle=False)
    np.testing.assert_array_equal(other[1][1], frame[["score", "size"]].to_numpy()[4:8])
    single = gen.flow_from_dataframe(frame, str(tree), y_col="score", class_mode="other", target_size=(H, W),
                                     batch_size=4, shuffle=False)
    np.testing.assert_array_equal(single[0][1], frame["score"].to_numpy()[:4])
    plain = gen.flow_from_dataframe(frame, str(tree), class_mode=None, target_size=(H, W), shuffle=False)
    assert isinstance(plain[0], np.ndarray) and plain.num_classes == 0
    with pytest.raises(ValueError, match="binary"):
        gen.flow_from_dataframe(frame, str(tree), class_mode="binary")
    with pytest.raises(TypeError, match="numeric"):
        gen.flow_from_dataframe(frame, str(tree), class_mode="other")
    with pytest.raises(ValueError, match="classes"):
        gen.flow_from_dataframe(frame, str(tree), class_mode=None, classes=["odd"])


def test_dataframe_multi_label_rows(tree, frame):
    frame = frame.copy()
    frame["tags"] = [["a", "b"] if i % 3 == 0 else ("c",) for i in range(len(frame))]
    it = ImageDataGenerator().flow_from_dataframe(frame, str(tree), y_col="tags", target_size=(H, W),
                                                  batch_size=15, shuffle=False)
    _, y = it[0]
    ref = np.array([[1, 1, 0] if i % 3 == 0 else [0, 0, 1] for i in range(len(frame))], dtype=np.float32)
    np.testing.assert_array_equal(y, ref)


def test_dataframe_without_extensions_missing_files_and_subsets(tree, frame):
    frame = frame.copy()
    frame.loc[len(frame)] = ["cat/no_such_file.png", "odd", 0.0, 0]
    frame.loc[len(frame)] = [frame["filename"][0], "odd", 0.0, 0]  # a duplicate, dropped
    gen = ImageDataGenerator(validation_split=0.2)
    with pytest.warns(InvalidImageWarning, match="no_such_file") as record:
        val = gen.flow_from_dataframe(frame, str(tree), target_size=(H, W), subset="validation", shuffle=False)
    assert len(record) == 1
    with pytest.warns(InvalidImageWarning):
        train = gen.flow_from_dataframe(frame, str(tree), target_size=(H, W), subset="training", shuffle=False)
    files = frame["filename"][:15].tolist()
    assert val.filenames == files[:3] and train.filenames == files[3:]
    stems = frame[:15].assign(filename=[os.path.splitext(f)[0] for f in files])
    no_ext = gen.flow_from_dataframe(stems, str(tree), has_ext=False, target_size=(H, W), shuffle=False)
    assert no_ext.filenames == files
    with pytest.raises(ValueError, match="has_ext"):
        gen.flow_from_dataframe(stems, str(tree))
    with pytest.raises(ValueError, match="x_col"):
        gen.flow_from_dataframe(frame, str(tree), x_col="path")
    with pytest.raises(ValueError, match="y_col"):
        gen.flow_from_dataframe(frame, str(tree), y_col="label")
    with pytest.raises(ValueError, match="dataframe"):
        gen.flow_from_dataframe(files, str(tree))


def test_dataframe_absolute_paths_and_training(tree, frame):
    absolute = frame.assign(filename=[str(tree / f) for f in frame["filename"]])
    it = ImageDataGenerator(rescale=1 / 255.).flow_from_dataframe(absolute, None, target_size=(H, W), batch_size=5,
                                                                 seed=0)
    history = tiny_model().fit_generator(it, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ---- optional dependencies --------------------------------------------------------------
def test_importing_seqnet_does_not_import_pillow_or_pandas():
    code = "import sys, seqnet, seqnet.preprocessing.image; print('PIL' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.stdout.split() == ["False", "False"]


def test_missing_pillow_and_pandas_name_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"needs Pillow to be read")
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match=r"needs Pillow: pip install 'seqnet\[image\]' \(or pip install Pillow\)"):
        load_img(str(tmp_path / "cat" / "a.png"))
    with pytest.raises(ImportError, match="Pillow"):
        ImageDataGenerator().flow_from_directory(str(tmp_path))
    with pytest.raises(ImportError, match="Pillow"):
        ImageDataGenerator().flow(np.zeros((2, 4, 4, 3)), save_to_dir=str(tmp_path))
    with pytest.raises(ImportError, match="Pillow"):
        array_to_img(np.zeros((2, 2, 3)))
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        ImageDataGenerator().flow_from_dataframe(None, str(tmp_path))
    # img_to_array needs no Pillow at all
    assert img_to_array(np.zeros((2, 3)), data_format="channels_last").shape == (2, 3, 1)
    assert image.load_img is load_img
