// The engine's enumerations, exported once so that Python names them instead of retyping
// their numbers (seqnet._engine.Activation.relu, Loss.categorical_crossentropy, ...).
// Member names are Keras' own names where Keras has one.
#include <string>

#include "bindings.h"
#include "seqnet/cpu.h"
#include "seqnet/rnn.h"

namespace seqnet {
namespace {

// Lets a binding taking E also take a plain Python int, for callers that still pass the old
// numeric codes (each binding range-checks the value). Unlike py::implicitly_convertible<int,
// E>, only an exact int qualifies: a member of another enum (which has __index__) or a bool
// is refused, so Activation.relu can never pass for a Loss.
template <class E>
void accept_plain_ints() {
    auto* tinfo = py::detail::get_type_info(typeid(E));
    if (!tinfo) py::pybind11_fail("accept_plain_ints: enum not registered");
    tinfo->implicit_conversions.emplace_back([](PyObject* obj, PyTypeObject* type) -> PyObject* {
        if (!PyLong_CheckExact(obj)) return nullptr;
        py::tuple args(1);
        args[0] = py::reinterpret_borrow<py::object>(obj);
        PyObject* result = PyObject_Call(reinterpret_cast<PyObject*>(type), args.ptr(), nullptr);
        if (!result) PyErr_Clear();
        return result;
    });
}

}  // namespace

void bind_enums(py::module_& m) {
    // Members are strict: Activation.softmax != 5 (int(member) gives the number).
    py::enum_<Activation>(m, "Activation",
                          "Keras activations the kernels implement (names as in keras.activations).")
        .value("linear", Activation::Linear)
        .value("relu", Activation::Relu)
        .value("sigmoid", Activation::Sigmoid)
        .value("hard_sigmoid", Activation::HardSigmoid)
        .value("tanh", Activation::Tanh)
        .value("softmax", Activation::Softmax)
        .value("softplus", Activation::Softplus)
        .value("softsign", Activation::Softsign)
        .value("elu", Activation::Elu)
        .value("selu", Activation::Selu)
        .value("exponential", Activation::Exponential)
        .value("swish", Activation::Swish)
        .value("gelu", Activation::Gelu);
    py::enum_<Loss>(m, "Loss", "The built-in losses computed by _engine.loss (keras.losses names).")
        .value("categorical_crossentropy", Loss::CategoricalCrossentropy)
        .value("sparse_categorical_crossentropy", Loss::SparseCategoricalCrossentropy)
        .value("binary_crossentropy", Loss::BinaryCrossentropy)
        .value("mean_squared_error", Loss::MeanSquaredError)
        .value("mean_absolute_error", Loss::MeanAbsoluteError);
    py::enum_<Accuracy>(m, "Accuracy", "The accuracies of _engine.accuracy_sum (keras.metrics names).")
        .value("binary_accuracy", Accuracy::Binary)
        .value("categorical_accuracy", Accuracy::Categorical)
        .value("sparse_categorical_accuracy", Accuracy::SparseCategorical);
    py::enum_<RnnCell>(m, "RnnCell", "The recurrent cells (Keras layer names).")
        .value("SimpleRNN", RnnCell::SimpleRNN)
        .value("GRU", RnnCell::GRU)
        .value("LSTM", RnnCell::LSTM);
    py::enum_<Isa>(m, "Isa", "Instruction sets of the run-time dispatch (SEQNET_ISA values).")
        .value("generic", Isa::Generic)
        .value("avx2", Isa::Avx2)
        .value("avx512", Isa::Avx512);
    // Plain integers are still accepted (and range-checked by each binding) during the migration.
    accept_plain_ints<Activation>();
    accept_plain_ints<Loss>();
    accept_plain_ints<Accuracy>();
    accept_plain_ints<RnnCell>();
}

Activation valid_activation(Activation act) {
    const int code = static_cast<int>(act);
    if (code < 0 || code >= static_cast<int>(Activation::Count)) fail("unknown activation code " + std::to_string(code));
    return act;
}

Loss valid_loss(Loss loss) {
    const int code = static_cast<int>(loss);
    if (code < 0 || code >= static_cast<int>(Loss::Count)) fail("unknown loss code " + std::to_string(code));
    return loss;
}

Accuracy valid_accuracy(Accuracy kind) {
    const int code = static_cast<int>(kind);
    if (code < 0 || code > static_cast<int>(Accuracy::SparseCategorical))
        fail("unknown accuracy code " + std::to_string(code));
    return kind;
}

RnnCell valid_cell(RnnCell cell) {
    const int code = static_cast<int>(cell);
    if (code < 0 || code > static_cast<int>(RnnCell::LSTM)) fail("rnn: unknown cell code " + std::to_string(code));
    return cell;
}

}  // namespace seqnet
