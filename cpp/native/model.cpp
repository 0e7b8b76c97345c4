// seqnet::Model at run time: the plan run on one batch (BatchNormalization folded as Python's
// _inference_chain folds it), and predict in batches as python/seqnet/engine/training_loop.py.
#include <algorithm>

#include "layers.h"
#include "seqnet/cpu.h"
#include "model_impl.h"

namespace seqnet {

using native::fail;
using native::json;
using native::Runner;
using native::Shape;
using native::Value;
using native::WeightPtr;

Tensor Tensor::zeros(std::vector<int64_t> shape, DType dtype) {
    Tensor t;
    t.shape = std::move(shape);
    t.dtype = dtype;
    const size_t n = static_cast<size_t>(t.size());
    if (dtype == DType::Float32) t.data.assign(n, 0.0f);
    else t.ints.assign(n, 0);
    return t;
}

int64_t Tensor::size() const { return native::checked_size(shape, "tensor"); }

namespace {

Value to_value(const Tensor& t, int64_t start, int64_t rows, bool keep_int) {
    Value v;
    v.shape = t.shape;
    v.shape[0] = rows;
    const int64_t per = t.shape[0] ? t.size() / t.shape[0] : 0;
    if (t.dtype == DType::Int32 && keep_int) {
        v.is_int = true;
        v.i.assign(t.ints.begin() + start * per, t.ints.begin() + (start + rows) * per);
    } else if (t.dtype == DType::Int32) {
        v.f.resize(static_cast<size_t>(rows * per));
        for (int64_t k = 0; k < rows * per; ++k) v.f[k] = static_cast<float>(t.ints[start * per + k]);
    } else {
        v.f.assign(t.data.begin() + start * per, t.data.begin() + (start + rows) * per);
    }
    return v;
}

}  // namespace

// ---- running ----------------------------------------------------------------------------------------
std::vector<const Value*> Model::Impl::run(std::vector<Value> xs, bool train) {
    input_values = std::move(xs);
    slot.assign(static_cast<size_t>(n_slots), nullptr);
    for (size_t k = 0; k < input_values.size(); ++k) slot[k] = &input_values[k];
    step_outs.resize(steps.size());
    // Python's predict folds BatchNormalization into a linear Dense/Conv before it in a plain chain.
    std::vector<std::unique_ptr<Runner>> folded;
    std::vector<Runner*> use(steps.size());
    std::vector<bool> skip(steps.size(), false);
    for (size_t k = 0; k < steps.size(); ++k) use[k] = steps[k].runner;
    if (chain && !train) {
        for (size_t k = 1; k < steps.size(); ++k) {
            auto* bn = dynamic_cast<native::BatchNormRunner*>(steps[k].runner);
            if (!bn || !top_level[k] || !top_level[k - 1] || skip[k - 1]) continue;
            std::vector<float> kernel, bias;
            if (auto* d = dynamic_cast<native::DenseRunner*>(use[k - 1])) {
                if (!d->linear() || bn->axis() != bn->ndim() - 1 || d->units() != static_cast<int64_t>(bn->weights.back()->value.size())) continue;
                bn->fold(d->weights[0]->value, d->use_bias() ? &d->weights[1]->value : nullptr, kernel, bias);
                folded.push_back(d->folded(kernel, bias));
            } else if (auto* c = dynamic_cast<native::ConvRunner*>(use[k - 1]); c && c->foldable()) {
                const int64_t channel = c->channels_first() ? 1 : bn->ndim() - 1;
                if (!c->linear() || bn->axis() != channel || c->filters() != static_cast<int64_t>(bn->weights.back()->value.size())) continue;
                bn->fold(c->weights[0]->value, c->weights.size() > 1 ? &c->weights[1]->value : nullptr, kernel, bias);
                folded.push_back(c->folded(kernel, bias));
            } else {
                continue;
            }
            use[k - 1] = folded.back().get();
            skip[k] = true;
        }
    }
    for (size_t k = 0; k < steps.size(); ++k) {
        const Step& st = steps[k];
        if (skip[k] || (st.in_slots.size() == 1 && st.out_slots.size() == 1 && use[k]->passes_through(train))) {
            // folded into the step before, or the identity (dropout at inference): the input moves on
            slot[st.out_slots[0]] = slot[st.in_slots[0]];
            continue;
        }
        std::vector<const Value*> in;
        for (int s : st.in_slots) in.push_back(slot[s]);
        std::vector<Value>& out = step_outs[k];
        {
            const DenormalsMode mode(use[k]->numpy_side ? DenormalsMode::kKeep : DenormalsMode::current());
            use[k]->forward(in, out, train);
            if (out.size() != st.out_slots.size())
                fail("Layer '" + st.runner->name + "' returned " + std::to_string(out.size()) + " outputs, expected " + std::to_string(st.out_slots.size()));
            use[k]->compute_mask(in, out);
        }
        for (size_t t = 0; t < out.size(); ++t) slot[st.out_slots[t]] = &out[t];
    }
    std::vector<const Value*> outs;
    for (int s : output_slots) outs.push_back(slot[s]);
    return outs;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

const std::vector<TensorSpec>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& Model::outputs() const { return impl_->outputs; }
std::vector<LayerInfo> Model::layers() const { return impl_->infos; }
std::string Model::name() const { return impl_->name; }

void Model::reset_states() {
    for (auto& r : impl_->runners) r->reset_states();
}

std::vector<Tensor> Model::predict(const std::vector<Tensor>& xs, int64_t batch_size) {
    Impl& m = *impl_;
    if (batch_size < 1) fail("predict: batch_size must be a positive integer, got " + std::to_string(batch_size));
    if (xs.size() != m.inputs.size())
        fail("predict: the model has " + std::to_string(m.inputs.size()) + " input(s), got " + std::to_string(xs.size()) + " array(s)");
    int64_t n = -1;
    for (size_t k = 0; k < xs.size(); ++k) {
        const Tensor& t = xs[k];
        const TensorSpec& spec = m.inputs[k];
        const int64_t size = t.size();
        if (static_cast<int64_t>(t.dtype == DType::Int32 ? t.ints.size() : t.data.size()) != size)
            fail("predict: input '" + spec.name + "': the data holds " +
                 std::to_string(t.dtype == DType::Int32 ? t.ints.size() : t.data.size()) + " values, its shape " + native::shape_str(t.shape) + " needs " + std::to_string(size));
        bool ok = t.shape.size() == spec.shape.size();
        for (size_t d = 1; ok && d < t.shape.size(); ++d) ok = spec.shape[d] < 0 || spec.shape[d] == t.shape[d];
        if (!ok || t.shape.empty())
            fail("predict: input '" + spec.name + "' expects shape " + native::shape_str(spec.shape) + ", got " + native::shape_str(t.shape));
        if (n >= 0 && t.shape[0] != n)
            fail("predict: all inputs must have the same number of rows; input '" + spec.name + "' has " + std::to_string(t.shape[0]) + ", expected " + std::to_string(n));
        n = t.shape[0];
    }
    std::vector<Tensor> result(m.outputs.size());
    // Subnormals as zero on every thread, as Python's predict runs the same kernels (cpu.h);
    // the caller's threads get their own modes back.
    const FlushScope flush(FlushScope::kPoolKeeps);
    for (int64_t start = 0; start < n; start += batch_size) {
        const int64_t rows = std::min(batch_size, n - start);
        std::vector<Value> batch;
        for (size_t k = 0; k < xs.size(); ++k) batch.push_back(to_value(xs[k], start, rows, m.inputs[k].dtype == DType::Int32));
        std::vector<const Value*> outs = m.run(std::move(batch), false);
        for (size_t o = 0; o < outs.size(); ++o) {
            Tensor& r = result[o];
            if (start == 0) {
                r.shape = outs[o]->shape;
                r.shape[0] = n;
                r.data.reserve(static_cast<size_t>(r.size()));
            }
            r.data.insert(r.data.end(), outs[o]->f.begin(), outs[o]->f.end());
        }
    }
    if (n == 0)
        for (size_t o = 0; o < result.size(); ++o) {
            result[o].shape = m.outputs[o].shape;
            result[o].shape[0] = 0;
            for (int64_t& d : result[o].shape) d = d < 0 ? 0 : d;
        }
    return result;
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
    if (impl_->outputs.size() != 1) fail("predict: the model has " + std::to_string(impl_->outputs.size()) + " outputs; pass and receive vectors");
    return std::move(predict(std::vector<Tensor>{x}, batch_size)[0]);
}

}  // namespace seqnet
