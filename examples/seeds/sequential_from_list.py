"""序贯模型：将层的列表传递给 Sequential 的构造函数
(Sequential model: building it from a list of layers).

Seed section: "Sequential 序贯模型" -- "我们可以通过将层的列表传递给Sequential的构造函数,
来创建一个Sequential模型。" The seed block builds the model; model.summary() at the end
is added to show that it works.
"""
from seqnet.models import Sequential
from seqnet.layers import Dense, Activation

model = Sequential([
    Dense(32, input_shape=(784,)),
    Activation('relu'),
    Dense(10),
    Activation('softmax'),
])

model.summary()
