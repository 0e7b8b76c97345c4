// Trains a 2-16-2 MLP on noisy XOR with the seqnet C++ kernel API alone: glorot-uniform init
// (random_uniform), dense_forward / dense_backward, a softmax output with categorical
// crossentropy computed from the logits, and RMSprop over one flat parameter buffer.
// Prints the loss per epoch and the final accuracy; exits 1 when accuracy < 0.9.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "seqnet/dense.h"
#include "seqnet/loss.h"
#include "seqnet/optim.h"
#include "seqnet/random.h"

int main() {
    constexpr int64_t n = 512, in = 2, hidden = 16, classes = 2, batch = 32, epochs = 20;
    constexpr uint64_t seed = 1234;

    // Data: points near the four corners of the unit square (x = corner +- 0.25 noise),
    // labelled one-hot with XOR of the corner's coordinates.
    std::vector<float> x(n * in), y(n * classes, 0.0f), noise(n * in);
    seqnet::random_uniform(noise.data(), n * in, -0.25f, 0.25f, seed, /*stream=*/0);
    for (int64_t i = 0; i < n; ++i) {
        const int a = int(i & 1), b = int((i >> 1) & 1);
        x[i * in + 0] = float(a) + noise[i * in + 0];
        x[i * in + 1] = float(b) + noise[i * in + 1];
        y[i * classes + (a ^ b)] = 1.0f;
    }

    // Parameters in one flat buffer: W1 (in, hidden), b1 (hidden), W2 (hidden, classes), b2 (classes).
    const int64_t n_w1 = in * hidden, n_b1 = hidden, n_w2 = hidden * classes, n_b2 = classes;
    const int64_t n_params = n_w1 + n_b1 + n_w2 + n_b2;
    std::vector<float> params(n_params, 0.0f), grads(n_params, 0.0f), accum(n_params, 0.0f);
    float* w1 = params.data();
    float* b1 = w1 + n_w1;
    float* w2 = b1 + n_b1;
    float* b2 = w2 + n_w2;
    float* dw1 = grads.data();
    float* db1 = dw1 + n_w1;
    float* dw2 = db1 + n_b1;
    float* db2 = dw2 + n_w2;
    const float lim1 = std::sqrt(6.0f / float(in + hidden)), lim2 = std::sqrt(6.0f / float(hidden + classes));
    seqnet::random_uniform(w1, n_w1, -lim1, lim1, seed, /*stream=*/1);  // glorot uniform; biases stay 0
    seqnet::random_uniform(w2, n_w2, -lim2, lim2, seed, /*stream=*/2);

    // Activations and gradients of one batch.
    std::vector<float> z1(batch * hidden), h(batch * hidden), dh(batch * hidden);
    std::vector<float> logits(batch * classes), prob(batch * classes), dlogits(batch * classes);

    for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
        double loss_sum = 0.0;
        for (int64_t start = 0; start < n; start += batch) {
            const int64_t rows = (n - start < batch) ? n - start : batch;
            const float* xb = x.data() + start * in;
            const float* yb = y.data() + start * classes;
            seqnet::dense_forward(xb, w1, b1, z1.data(), h.data(), rows, in, hidden, seqnet::Activation::Tanh);
            seqnet::dense_forward(h.data(), w2, b2, logits.data(), prob.data(), rows, hidden, classes,
                                  seqnet::Activation::Softmax);
            // Loss and dL/dlogits from the softmax's logits (the numerically stable form).
            const float loss = seqnet::loss_forward_backward(seqnet::Loss::CategoricalCrossentropy, yb, prob.data(),
                                                             logits.data(), rows, classes, nullptr, dlogits.data(),
                                                             nullptr);
            loss_sum += double(loss) * double(rows);
            seqnet::dense_backward(h.data(), w2, logits.data(), prob.data(), dlogits.data(), dh.data(), dw2, db2,
                                   rows, hidden, classes, seqnet::Activation::Softmax, /*dy_is_preactivation=*/true);
            seqnet::dense_backward(xb, w1, z1.data(), h.data(), dh.data(), nullptr, dw1, db1, rows, in, hidden,
                                   seqnet::Activation::Tanh, /*dy_is_preactivation=*/false);
            seqnet::rmsprop_update(params.data(), grads.data(), accum.data(), nullptr, nullptr, n_params,
                                   /*lr=*/0.01f, /*rho=*/0.9f, /*momentum=*/0.0f, /*epsilon=*/1e-7f);
        }
        std::printf("epoch %lld/%lld - loss: %.4f\n", (long long)epoch, (long long)epochs, loss_sum / double(n));
    }

    // Accuracy over the whole set in one forward pass.
    std::vector<float> h_all(n * hidden), prob_all(n * classes);
    seqnet::dense_forward(x.data(), w1, b1, nullptr, h_all.data(), n, in, hidden, seqnet::Activation::Tanh);
    seqnet::dense_forward(h_all.data(), w2, b2, nullptr, prob_all.data(), n, hidden, classes,
                          seqnet::Activation::Softmax);
    const double accuracy =
        seqnet::accuracy_sum(seqnet::Accuracy::Categorical, y.data(), prob_all.data(), n, classes) / double(n);
    std::printf("accuracy: %.4f\n", accuracy);
    return accuracy >= 0.9 ? 0 : 1;
}
