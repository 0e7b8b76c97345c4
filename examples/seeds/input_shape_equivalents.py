"""指定输入数据的尺寸 (Specifying the input shape).

Seed section: "指定输入数据的尺寸". Shows that the ways of giving the first layer its
input shape are equivalent: input_shape=(784,) and input_dim=784 both give inputs of
shape (None, 784); batch_size=32 with input_shape=(6, 8) gives batches of shape
(32, 6, 8), the same as batch_input_shape=(32, 6, 8); and for LSTM, input_shape=(10, 64), batch_input_shape=(None, 10, 64)
and input_length=10 with input_dim=64 all give (None, 10, 64). The imports and the prints/asserts
of model.input_shape are added; the seed's model-building lines are kept verbatim.
"""
from seqnet.models import Sequential
from seqnet.layers import Dense, LSTM

# 因此下面的代码是等价的。
model = Sequential()
model.add(Dense(32, input_shape=(784,)))
shape_from_input_shape = model.input_shape

model = Sequential()
model.add(Dense(32, input_dim=784))
shape_from_input_dim = model.input_shape

print('input_shape=(784,)          ->', shape_from_input_shape)
print('input_dim=784               ->', shape_from_input_dim)
assert shape_from_input_shape == shape_from_input_dim == (None, 784)

# 如果你同时将 batch_size=32 和 input_shape=(6, 8) 传递给一个层，
# 那么每一批输入的尺寸就为 (32,6,8)。
model = Sequential()
model.add(Dense(32, batch_size=32, input_shape=(6, 8)))
shape_from_batch_size = model.input_shape

model = Sequential()
model.add(Dense(32, batch_input_shape=(32, 6, 8)))
shape_from_batch_input_shape = model.input_shape

print('batch_size=32, input_shape=(6, 8) ->', shape_from_batch_size)
print('batch_input_shape=(32, 6, 8)      ->', shape_from_batch_input_shape)
assert shape_from_batch_size == shape_from_batch_input_shape == (32, 6, 8)

# 下面三种方法也是严格等价的:
model = Sequential()
model.add(LSTM(32, input_shape=(10, 64)))
shape_from_lstm_input_shape = model.input_shape

model = Sequential()
model.add(LSTM(32, batch_input_shape=(None, 10, 64)))
shape_from_lstm_batch_input_shape = model.input_shape

model = Sequential()
model.add(LSTM(32, input_length=10, input_dim=64))
shape_from_lstm_input_length_dim = model.input_shape

print('LSTM input_shape=(10, 64)              ->', shape_from_lstm_input_shape)
print('LSTM batch_input_shape=(None, 10, 64)  ->', shape_from_lstm_batch_input_shape)
print('LSTM input_length=10, input_dim=64     ->', shape_from_lstm_input_length_dim)
assert (shape_from_lstm_input_shape == shape_from_lstm_batch_input_shape
        == shape_from_lstm_input_length_dim == (None, 10, 64))
