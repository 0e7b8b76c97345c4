"""序贯模型：使用 .add() 方法将各层添加到模型中
(Sequential model: adding layers one at a time with .add()).

Seed section: "Sequential 序贯模型" -- "也可以使用.add()方法将各层添加到模型中". The seed
block is a fragment; the imports and model.summary() at the end are added to make it a
complete script.
"""
from seqnet.models import Sequential
from seqnet.layers import Dense, Activation

model = Sequential()
model.add(Dense(32, input_dim=784))
model.add(Activation('relu'))

model.summary()
