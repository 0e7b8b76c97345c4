"""Runs every script of examples/seeds/ (the seed document's MLP code blocks, changed only
in their imports) in a fresh interpreter, with epochs cut down to 2, and checks its output
against expectations computed here independently (parameter counts by hand, shapes from
the seed's text, finite losses and scores)."""
import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[1] / "examples" / "seeds"
TIMEOUT_S = 120
FLOAT = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf"


def run_script(name, tmp_path):
    """The script with every `epochs=<n>` made `epochs=2`, run from tmp_path; its stdout."""
    source = (SEEDS / name).read_text(encoding="utf-8")
    patched, count = re.subn(r"\bepochs=\d+", "epochs=2", source)
    if "epochs=" in source:
        assert count == source.count("epochs="), f"{name}: not every epochs= was replaced"
    script = tmp_path / name
    script.write_text(patched, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"{name} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, count


def assert_finite(value, what):
    assert isinstance(value, float) and math.isfinite(value), f"{what}: {value!r} is not a finite number"


def check_fit_progress(out, metrics=("loss", "acc(?:uracy)?")):
    """Two epochs ran, each ending on a line with finite loss and metric values
    (accuracy shows as 'acc' in Keras 2.2.4 and 'accuracy' later: either is accepted)."""
    assert "Epoch 1/2" in out and "Epoch 2/2" in out, out
    assert "Epoch 3/" not in out, out
    after_last = out.split("Epoch 2/2", 1)[1]
    for metric in metrics:
        found = re.findall(rf"\b{metric}: ({FLOAT})", after_last)
        assert found, f"no '{metric}:' value after 'Epoch 2/2':\n{out}"
        assert_finite(float(found[0]), metric)
    if "acc(?:uracy)?" in metrics:
        acc = float(re.findall(rf"\bacc(?:uracy)?: ({FLOAT})", after_last)[0])
        assert 0.0 <= acc <= 1.0


def check_summary(out, rows, total):
    """Keras 2's table: header, the rows (name, shape, params) and the totals."""
    lines = out.splitlines()
    assert "Layer (type)                 Output Shape              Param #   " in lines
    for name, shape, params in rows:
        expected = f"{name:<29}{shape:<26}{params:<10}"
        assert expected in lines, f"row {expected!r} missing from:\n{out}"
    assert f"Total params: {total:,}" in lines
    assert f"Trainable params: {total:,}" in lines
    assert "Non-trainable params: 0" in lines


def check_evaluate_score(out):
    """The last printed line is [loss, accuracy]: finite, accuracy in [0, 1]."""
    score = ast.literal_eval(out.strip().splitlines()[-1])
    assert isinstance(score, list) and len(score) == 2, score
    assert_finite(float(score[0]), "loss")
    assert 0.0 <= score[1] <= 1.0
    return score


# ---- one check per script ---------------------------------------------------------------
def check_sequential_from_list(out, n_epochs_subs):
    total = (784 * 32 + 32) + (32 * 10 + 10)
    assert total == 25450
    check_summary(out, [("dense_1 (Dense)", "(None, 32)", 784 * 32 + 32),
                        ("activation_1 (Activation)", "(None, 32)", 0),
                        ("dense_2 (Dense)", "(None, 10)", 32 * 10 + 10),
                        ("activation_2 (Activation)", "(None, 10)", 0)], total)


def check_sequential_add(out, n_epochs_subs):
    check_summary(out, [("dense_1 (Dense)", "(None, 32)", 784 * 32 + 32),
                        ("activation_1 (Activation)", "(None, 32)", 0)], 784 * 32 + 32)


def check_input_shape_equivalents(out, n_epochs_subs):
    shapes = [ast.literal_eval(line.split("->", 1)[1].strip()) for line in out.splitlines() if "->" in line]
    assert shapes == [(None, 784), (None, 784), (32, 6, 8), (32, 6, 8),
                      (None, 10, 64), (None, 10, 64), (None, 10, 64)], out


def check_compile_examples(out, n_epochs_subs):
    results = {}
    for line in out.strip().splitlines():
        tag, rest = line.split(" ", 1)
        names_text, value_text = rest.split("] ", 1)
        results[tag] = (ast.literal_eval(names_text + "]"), ast.literal_eval(value_text))
    assert list(results) == ["categorical_crossentropy", "binary_crossentropy", "mse", "mean_pred"]
    acc = ("acc", "accuracy")  # Keras 2.2.4 names it 'acc', later versions 'accuracy'
    assert results["categorical_crossentropy"][0] in (["loss", a] for a in acc)
    assert results["binary_crossentropy"][0] in (["loss", a] for a in acc)
    assert results["mse"][0] == ["loss"]
    assert results["mean_pred"][0] in (["loss", a, "mean_pred"] for a in acc)
    assert_finite(results["mse"][1], "mse loss")  # one output -> a scalar, as in Keras
    for tag in ("categorical_crossentropy", "binary_crossentropy", "mean_pred"):
        values = results[tag][1]
        assert isinstance(values, list) and len(values) == len(results[tag][0])
        for v in values:
            assert_finite(float(v), tag)
        assert 0.0 <= values[1] <= 1.0
    # the custom metric is the mean of sigmoid outputs
    assert 0.0 < results["mean_pred"][1][2] < 1.0
    # categorical cross-entropy of 10 classes near chance, not a degenerate value
    assert 0.5 < results["categorical_crossentropy"][1][0] < 10.0


def check_binary_classification(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    assert "1000/1000" in out


def check_multiclass_classification(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    assert "1000/1000" in out


def check_mlp_softmax(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    loss, _ = check_evaluate_score(out)
    assert loss < 10.0  # 10 classes: chance is ln(10) ~ 2.3


def check_mlp_binary(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    loss, _ = check_evaluate_score(out)
    assert loss < 5.0  # chance is ln(2) ~ 0.69


def check_vgg_like_convnet(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out, metrics=("loss",))
    assert "100/100" in out
    loss = ast.literal_eval(out.strip().splitlines()[-1])  # compiled without metrics: a scalar
    assert_finite(float(loss), "loss")
    assert loss < 20.0  # 10 classes: chance is ln(10) ~ 2.3


def check_conv1d_sequence_classification(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    assert "256/256" in out
    loss, _ = check_evaluate_score(out)
    assert loss < 5.0  # chance is ln(2) ~ 0.69


def check_lstm_sequence_classification(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out)
    assert "200/200" in out
    # parameters by hand: embeddings 1000 x 256; LSTM 4 gates x 128 x (256 inputs + 128 recurrent + 1 bias)
    embedding, lstm, dense = 1000 * 256, 4 * 128 * (256 + 128 + 1), 128 + 1
    check_summary(out, [("embedding_1 (Embedding)", "(None, None, 256)", embedding),
                        ("lstm_1 (LSTM)", "(None, 128)", lstm),
                        ("dropout_1 (Dropout)", "(None, 128)", 0),
                        ("dense_1 (Dense)", "(None, 1)", dense)], embedding + lstm + dense)
    loss, _ = check_evaluate_score(out)
    assert loss < 10.0


def check_stacked_lstm(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out, metrics=("loss", "acc(?:uracy)?", "val_loss"))
    assert "1000/1000" in out


def check_stateful_stacked_lstm(out, n_epochs_subs):
    assert n_epochs_subs == 1
    check_fit_progress(out, metrics=("loss", "acc(?:uracy)?", "val_loss"))
    assert "320/320" in out  # batch_size * 10 samples in batches of exactly 32


CHECKS = {
    "sequential_from_list.py": check_sequential_from_list,
    "sequential_add.py": check_sequential_add,
    "input_shape_equivalents.py": check_input_shape_equivalents,
    "compile_examples.py": check_compile_examples,
    "binary_classification.py": check_binary_classification,
    "multiclass_classification.py": check_multiclass_classification,
    "mlp_softmax.py": check_mlp_softmax,
    "mlp_binary.py": check_mlp_binary,
    "lstm_sequence_classification.py": check_lstm_sequence_classification,
    "stacked_lstm.py": check_stacked_lstm,
    "stateful_stacked_lstm.py": check_stateful_stacked_lstm,
    "vgg_like_convnet.py": check_vgg_like_convnet,
    "conv1d_sequence_classification.py": check_conv1d_sequence_classification,
}


def test_every_seed_script_has_a_check():
    scripts = sorted(p.name for p in SEEDS.glob("*.py"))
    assert scripts == sorted(CHECKS), "examples/seeds/ and CHECKS disagree"


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.glob("*.py")))
def test_seed_script(name, tmp_path):
    out, n_epochs_subs = run_script(name, tmp_path)
    CHECKS[name](out, n_epochs_subs)
