"""Learns to add two numbers given as text, "535+61" -> "596", with a sequence-to-sequence
LSTM: an encoder LSTM reads the question, RepeatVector feeds its summary to a decoder LSTM at
every output position, and TimeDistributed(Dense(softmax)) picks one character per position.

    python examples/addition_rnn.py [--training-size 50000] [--digits 3] [--iterations 200]

With 3-digit numbers and 50,000 questions the model answers ~99% of held-out questions
correctly after about 30 iterations (one epoch each); the script prints a few validation
questions with their guesses after every iteration. Questions are reversed, which makes
the task easier for the LSTM (Sutskever et al., 2014).

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet.layers import LSTM, Activation, Dense, RepeatVector, TimeDistributed
from seqnet.models import Sequential

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--training-size", type=int, default=50000)
parser.add_argument("--digits", type=int, default=3)
parser.add_argument("--iterations", type=int, default=200)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--seed", type=int, default=1337)
args = parser.parse_args()


class CharacterTable(object):
    """One-hot encodes strings over a fixed alphabet and decodes probability rows back."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, text, num_rows):
        x = np.zeros((num_rows, len(self.chars)), dtype=np.float32)
        for i, c in enumerate(text):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[i] for i in x)


DIGITS = args.digits
MAXLEN = DIGITS + 1 + DIGITS  # "123+456"
chars = "0123456789+ "
ctable = CharacterTable(chars)
rng = np.random.RandomState(args.seed)
keras.utils.set_random_seed(args.seed)

print("Generating data...")
questions, expected, seen = [], [], set()
while len(questions) < args.training_size:
    def number():
        return int("".join(rng.choice(list("0123456789")) for _ in range(rng.randint(1, DIGITS + 1))))
    a, b = number(), number()
    key = tuple(sorted((a, b)))
    if key in seen:
        if len(seen) >= (10 ** DIGITS) ** 2 // 2:
            break  # every pair is taken: a small --digits cannot give more questions
        continue
    seen.add(key)
    q = "{}+{}".format(a, b)
    query = (q + " " * (MAXLEN - len(q)))[::-1]  # padded, then reversed
    ans = str(a + b)
    ans += " " * (DIGITS + 1 - len(ans))
    questions.append(query)
    expected.append(ans)
print("Total addition questions:", len(questions))

print("Vectorization...")
x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=np.float32)
y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=np.float32)
for i, sentence in enumerate(questions):
    x[i] = ctable.encode(sentence, MAXLEN)
for i, sentence in enumerate(expected):
    y[i] = ctable.encode(sentence, DIGITS + 1)

indices = np.arange(len(y))
rng.shuffle(indices)
x, y = x[indices], y[indices]
split_at = len(x) - len(x) // 10  # hold out 10% for validation
(x_train, x_val), (y_train, y_val) = (x[:split_at], x[split_at:]), (y[:split_at], y[split_at:])
print("Training Data:", x_train.shape, y_train.shape)
print("Validation Data:", x_val.shape, y_val.shape)

HIDDEN_SIZE = 128
print("Build model...")
model = Sequential()
# The encoder: its output is the question's summary, a vector of HIDDEN_SIZE.
model.add(LSTM(HIDDEN_SIZE, input_shape=(MAXLEN, len(chars))))
# The decoder gets that summary at each of its DIGITS + 1 steps.
model.add(RepeatVector(DIGITS + 1))
model.add(LSTM(HIDDEN_SIZE, return_sequences=True))
# One softmax over the characters per output position.
model.add(TimeDistributed(Dense(len(chars))))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

for iteration in range(1, args.iterations + 1):
    print()
    print("-" * 50)
    print("Iteration", iteration)
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, validation_data=(x_val, y_val))
    for _ in range(min(10, len(x_val))):
        ind = rng.randint(0, len(x_val))
        rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
        preds = model.predict_classes(rowx, verbose=0)
        q = ctable.decode(rowx[0])
        correct = ctable.decode(rowy[0])
        guess = ctable.decode(preds[0], calc_argmax=False)
        print("Q", q[::-1], "T", correct, "OK" if correct == guess else "--", guess)
answers = model.predict(x_val).argmax(axis=-1)
print("Validation exact-answer accuracy:", float(np.mean(np.all(answers == y_val.argmax(axis=-1), axis=1))))
