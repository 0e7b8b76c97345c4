"""Example script to generate text from Nietzsche's writings.

    python examples/lstm_text_generation.py [--epochs 60] [--limit N] [--data corpus.txt]

A character-level LSTM(128) learns to predict the next character from the previous 40
(windows taken every 3 characters), trained with RMSprop(lr=0.01), batch 128, 60 epochs.
After each epoch a LambdaCallback prints 400 generated characters at the temperatures
0.2, 0.5, 1.0 and 1.2, starting from a random 40-character seed of the text. At least 20
epochs are required before the generated text starts sounding coherent (the training loss
falls from about 2.0 after the first epoch to about 1.3); low temperatures give repetitive
but well-spelled text, high ones more inventive words.

The corpus is fetched once with get_file('nietzsche.txt', origin=
'https://s3.amazonaws.com/text-datasets/nietzsche.txt') into ~/.keras/datasets (or
$KERAS_HOME/datasets). It is recommended to run this script with many cores (or, on Keras,
a GPU), as recurrent networks are quite computationally intensive. If you try this script
on new data, make sure your corpus has at least ~100k characters. ~1M is better.

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options (the defaults are the classic values): --epochs and --batch-size; --limit keeps only
the first N characters of the corpus; --length sets the characters generated per temperature;
--data reads the corpus from a text file instead of downloading it (the tests use it with a
tiny stand-in).
"""
from __future__ import print_function

import argparse
import io
import random
import sys

import numpy as np

from seqnet.callbacks import LambdaCallback
from seqnet.layers import LSTM, Dense
from seqnet.models import Sequential
from seqnet.optimizers import RMSprop
from seqnet.utils.data_utils import get_file

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=60)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--limit", type=int, default=None, help="use only the first N characters of the corpus")
parser.add_argument("--length", type=int, default=400, help="characters generated per temperature")
parser.add_argument("--data", default=None, help="a text file to learn from (instead of nietzsche.txt)")
args = parser.parse_args()

path = args.data or get_file(
    "nietzsche.txt",
    origin="https://s3.amazonaws.com/text-datasets/nietzsche.txt")
with io.open(path, encoding="utf-8") as f:
    text = f.read().lower()
if args.limit:
    text = text[:args.limit]
print("corpus length:", len(text))

chars = sorted(list(set(text)))
print("total chars:", len(chars))
char_indices = dict((c, i) for i, c in enumerate(chars))
indices_char = dict((i, c) for i, c in enumerate(chars))

# cut the text in semi-redundant sequences of maxlen characters
maxlen = 40
step = 3
sentences = []
next_chars = []
for i in range(0, len(text) - maxlen, step):
    sentences.append(text[i: i + maxlen])
    next_chars.append(text[i + maxlen])
print("nb sequences:", len(sentences))

print("Vectorization...")
x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
y = np.zeros((len(sentences), len(chars)), dtype=bool)
for i, sentence in enumerate(sentences):
    for t, char in enumerate(sentence):
        x[i, t, char_indices[char]] = 1
    y[i, char_indices[next_chars[i]]] = 1


# build the model: a single LSTM
print("Build model...")
model = Sequential()
model.add(LSTM(128, input_shape=(maxlen, len(chars))))
model.add(Dense(len(chars), activation="softmax"))

optimizer = RMSprop(lr=0.01)
model.compile(loss="categorical_crossentropy", optimizer=optimizer)


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def on_epoch_end(epoch, _):
    # Function invoked at end of each epoch. Prints generated text.
    print()
    print("----- Generating text after Epoch: %d" % epoch)

    start_index = random.randint(0, len(text) - maxlen - 1)
    for diversity in [0.2, 0.5, 1.0, 1.2]:
        print("----- diversity:", diversity)

        generated = ""
        sentence = text[start_index: start_index + maxlen]
        generated += sentence
        print('----- Generating with seed: "' + sentence + '"')
        sys.stdout.write(generated)

        for i in range(args.length):
            x_pred = np.zeros((1, maxlen, len(chars)))
            for t, char in enumerate(sentence):
                x_pred[0, t, char_indices[char]] = 1.

            preds = model.predict(x_pred, verbose=0)[0]
            next_index = sample(preds, diversity)
            next_char = indices_char[next_index]

            generated += next_char
            sentence = sentence[1:] + next_char

            sys.stdout.write(next_char)
            sys.stdout.flush()
        print()


print_callback = LambdaCallback(on_epoch_end=on_epoch_end)

model.fit(x, y,
          batch_size=args.batch_size,
          epochs=args.epochs,
          callbacks=[print_callback])
