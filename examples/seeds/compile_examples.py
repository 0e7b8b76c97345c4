"""编译 (Compilation): the four compile examples of the seed.

Seed section: "编译". The seed block holds only the compile calls; each is applied to a
small suitable model (added), and each model then runs one train_on_batch on random data
(added) to show that it compiles and trains.
"""
import numpy as np

from seqnet.models import Sequential
from seqnet.layers import Dense

x = np.random.random((32, 16))


def small_model(units, activation):
    model = Sequential()
    model.add(Dense(8, activation='relu', input_dim=16))
    model.add(Dense(units, activation=activation))
    return model


# 多分类问题
model = small_model(10, 'softmax')
model.compile(optimizer='rmsprop',
              loss='categorical_crossentropy',
              metrics=['accuracy'])
y = np.eye(10)[np.random.randint(10, size=32)]
print('categorical_crossentropy', model.metrics_names, model.train_on_batch(x, y))

# 二分类问题
model = small_model(1, 'sigmoid')
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])
y = np.random.randint(2, size=(32, 1))
print('binary_crossentropy', model.metrics_names, model.train_on_batch(x, y))

# 均方误差回归问题
model = small_model(1, None)
model.compile(optimizer='rmsprop',
              loss='mse')
y = np.random.random((32, 1))
print('mse', model.metrics_names, model.train_on_batch(x, y))

# 自定义评估标准函数
import seqnet.backend as K

def mean_pred(y_true, y_pred):
    return K.mean(y_pred)

model = small_model(1, 'sigmoid')
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy', mean_pred])
y = np.random.randint(2, size=(32, 1))
print('mean_pred', model.metrics_names, model.train_on_batch(x, y))
