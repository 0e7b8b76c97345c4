"""训练：具有 2 个类的单输入模型（二进制分类）
(Training: a single-input model with 2 classes, binary classification).

Seed section: "训练". The imports are added; the rest is the seed's block.
"""
from seqnet.models import Sequential
from seqnet.layers import Dense

# 对于具有2个类的单输入模型(二进制分类):

model = Sequential()
model.add(Dense(32, activation='relu', input_dim=100))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['accuracy'])

# 生成虚拟数据
import numpy as np
data = np.random.random((1000, 100))
labels = np.random.randint(2, size=(1000, 1))

# 训练模型,以 32 个样本为一个 batch 进行迭代
model.fit(data, labels, epochs=10, batch_size=32)
