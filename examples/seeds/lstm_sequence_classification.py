"""基于 LSTM 的序列分类 (Sequence classification with LSTM).

Seed section: "例子" -- "基于 LSTM 的序列分类". The seed leaves max_features and the data
undefined: they are defined at the top with small random data (1000 word ids, sequences of
20, 200 training and 50 test samples). The imports are changed; the seed's lines are kept
verbatim; the score is printed at the end.
"""
import numpy as np

max_features = 1000
x_train = np.random.randint(max_features, size=(200, 20))
y_train = np.random.randint(2, size=(200, 1))
x_test = np.random.randint(max_features, size=(50, 20))
y_test = np.random.randint(2, size=(50, 1))

from seqnet.models import Sequential  # noqa: E402
from seqnet.layers import Dense, Dropout  # noqa: E402
from seqnet.layers import Embedding  # noqa: E402
from seqnet.layers import LSTM  # noqa: E402

model = Sequential()
model.add(Embedding(max_features, output_dim=256))
model.add(LSTM(128))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
model.summary()
print(score)
