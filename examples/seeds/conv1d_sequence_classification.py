"""基于 1D 卷积的序列分类 (sequence classification with 1D convolutions).

Seed section: "例子" -- "基于 1D 卷积的序列分类". Only the imports are changed. The seed
leaves seq_length and the data undefined: they are defined minimally at the top (random
sequences of 100 features and binary labels); print(score) at the end is added to show
the evaluation result.
"""
import numpy as np

seq_length = 64
x_train = np.random.random((256, seq_length, 100))
y_train = np.random.randint(2, size=(256, 1))
x_test = np.random.random((64, seq_length, 100))
y_test = np.random.randint(2, size=(64, 1))

from seqnet.models import Sequential
from seqnet.layers import Dense, Dropout
from seqnet.layers import Embedding
from seqnet.layers import Conv1D, GlobalAveragePooling1D, MaxPooling1D

model = Sequential()
model.add(Conv1D(64, 3, activation='relu', input_shape=(seq_length, 100)))
model.add(Conv1D(64, 3, activation='relu'))
model.add(MaxPooling1D(3))
model.add(Conv1D(128, 3, activation='relu'))
model.add(Conv1D(128, 3, activation='relu'))
model.add(GlobalAveragePooling1D())
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

model.fit(x_train, y_train, batch_size=16, epochs=10)
score = model.evaluate(x_test, y_test, batch_size=16)
print(score)
