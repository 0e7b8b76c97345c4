"""bench/bench_lstm.py's roofline line: the epoch's FLOPs counted from the model's layers match
an independent count of the seed models' products, and the floor and the share of the peak
(of seqnet's epoch, and needed for 2x the fastest peer) follow from them."""
import re

import pytest
from numeric_helpers import load_bench

import seqnet as keras


@pytest.fixture(scope="module")
def bench_lstm():
    return load_bench("bench_lstm")


def lstm_products(steps, inputs, units):
    """Forward FLOPs per sample of an LSTM's products: x W and h U for 4 gates per step."""
    return 2 * steps * 4 * units * (inputs + units)


def test_embedding_model_flops(bench_lstm):
    m = bench_lstm.MODELS["embedding"]
    net = bench_lstm.keras_model(keras, "embedding", keras.optimizers.RMSprop(lr=0.001))
    lstm = lstm_products(m["steps"], m["emb"], m["units"])
    # LSTM: forward, then dW, dU, dx and dh (twice the forward); Embedding: its scatter of the
    # rows' gradients; Dropout: one multiply each way; Dense(1): x w forward, dw and dx backward
    per_sample = 3 * lstm + m["steps"] * m["emb"] + 2 * m["units"] + 2 * m["units"] + 4 * m["units"]
    assert bench_lstm.epoch_flops(net, m["n"]) == m["n"] * per_sample


def test_stacked_model_flops(bench_lstm):
    m = bench_lstm.MODELS["stacked"]
    net = bench_lstm.keras_model(keras, "stacked", keras.optimizers.RMSprop(lr=0.001))
    u, t = m["units"], m["steps"]
    # the first LSTM computes no dx: forward + dW, dU, dh, less the x-side product dx
    first = 3 * lstm_products(t, m["dim"], u) - 2 * t * 4 * u * m["dim"]
    rest = 2 * 3 * lstm_products(t, u, u)
    dense = 2 * u * m["classes"] * 3
    assert bench_lstm.epoch_flops(net, m["n"]) == m["n"] * (first + rest + dense)


def test_roofline_numbers(bench_lstm, capsys):
    floor_ms, share = bench_lstm.roofline(100e9, 250.0, [0.8, 0.5, 1.0])
    assert floor_ms == pytest.approx(400.0)
    assert share == pytest.approx(0.4 / 0.8)
    results = {"seqnet": dict(flops=100e9, peak=250.0, times=[0.8, 0.8]),
               "torch": dict(times=[1.0, 1.2, 1.1]), "tf_keras": dict(times=[2.0])}
    bench_lstm.print_roofline("embedding", results)
    line = capsys.readouterr().out
    assert "100.0 GFLOP per epoch" in line and "floor 400 ms/epoch" in line
    assert "seqnet at 50% of the peak" in line
    # 2x the fastest peer (1.1 s median) is an epoch of 550 ms: 400 / 550 of the peak
    assert re.search(r"2x the fastest peer \(1100 ms\) needs 73%", line)


def test_roofline_skipped_without_seqnet_numbers(bench_lstm, capsys):
    bench_lstm.print_roofline("embedding", {"torch": dict(times=[1.0])})
    bench_lstm.print_roofline("embedding", {"seqnet": dict(times=[1.0], loss=0.1, version="x")})
    assert capsys.readouterr().out == ""


def test_unknown_layer_count_is_an_error(bench_lstm, monkeypatch):
    net = bench_lstm.keras_model(keras, "embedding", keras.optimizers.RMSprop(lr=0.001))
    import seqnet.profiler as profiler
    monkeypatch.setattr(profiler, "layer_flops", lambda *a, **k: (None, None))
    with pytest.raises(ValueError, match="no FLOP count for layer 'embedding"):
        bench_lstm.epoch_flops(net, 10)
