// The algorithm choice of 3x3 stride-1 convolutions: a setting (SEQNET_CONV_ALGO or
// set_conv_algo). Auto (the default) is a fixed rule per shape, drawn from the per-layer
// measurements of bench/bench_conv_layers.py (README, "Fast 3x3 convolutions"): the same
// algorithm on every run, thread count and machine, so results stay reproducible. Tune
// measures instead, once per shape and pass in this process: each candidate three times
// (interleaved, so a burst of load elsewhere hits them alike), keeping the fastest; a later
// candidate must beat the best so far by kMargin, so near-ties resolve to the more accurate
// algorithm. The table is keyed by shape and pass, not by the number of threads: once chosen,
// a shape runs alike, hence bit-identically, on any number of threads.
#include "conv_algo.h"

#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

namespace seqnet {
namespace {

constexpr int kReps = 3;
constexpr double kMargin = 0.9;
// Below this many multiply-adds a pass takes microseconds: not worth measuring.
constexpr int64_t kMinMeasuredMacs = int64_t(1) << 22;

ConvAlgo from_env() {
    ConvAlgo a = ConvAlgo::Auto;
    const char* s = std::getenv("SEQNET_CONV_ALGO");
    if (s && *s && !conv_algo_from_name(s, &a)) {
        std::fprintf(stderr, "seqnet: SEQNET_CONV_ALGO='%s' is not one of auto, tune, im2col, direct, winograd, "
                             "winograd2, winograd4, winograd6; using auto\n", s);
        a = ConvAlgo::Auto;
    }
    return a;
}

std::atomic<int>& setting() {
    static std::atomic<int> algo{static_cast<int>(from_env())};
    return algo;
}

using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;

Key key_of(const ConvShape& s, ConvPass pass) {
    return Key{s.n, s.h, s.w, s.c, s.oh, s.ow, s.f, s.pad_top, s.pad_left, static_cast<int>(pass)};
}

struct Table {
    std::mutex mu;
    std::map<Key, ConvAlgoChoice> choices;
};

Table& table() {
    static Table t;
    return t;
}

int threads_now() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

bool measurable(const ConvShape& s) { return s.n * s.oh * s.ow * 9 * s.c * s.f >= kMinMeasuredMacs; }

}  // namespace

bool winograd_applicable(const ConvShape& s) {
    return s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.n > 0 && s.c > 0 &&
           s.f > 0 && s.oh > 0 && s.ow > 0;
}

ConvAlgo conv_algo() { return static_cast<ConvAlgo>(setting().load()); }

ConvAlgo set_conv_algo(ConvAlgo algo) { return static_cast<ConvAlgo>(setting().exchange(static_cast<int>(algo))); }

const char* conv_algo_name(ConvAlgo algo) {
    switch (algo) {
        case ConvAlgo::Im2col: return "im2col";
        case ConvAlgo::Winograd2: return "winograd2";
        case ConvAlgo::Winograd4: return "winograd4";
        case ConvAlgo::Winograd6: return "winograd6";
        case ConvAlgo::Direct: return "direct";
        case ConvAlgo::Tune: return "tune";
        default: return "auto";
    }
}

bool conv_algo_from_name(const char* name, ConvAlgo* algo) {
    static const struct {
        const char* name;
        ConvAlgo algo;
    } names[] = {{"auto", ConvAlgo::Auto},
                 {"im2col", ConvAlgo::Im2col},
                 {"direct", ConvAlgo::Direct},
                 {"winograd", ConvAlgo::Winograd4},
                 {"winograd2", ConvAlgo::Winograd2},
                 {"winograd4", ConvAlgo::Winograd4},
                 {"winograd6", ConvAlgo::Winograd6},
                 {"tune", ConvAlgo::Tune}};
    for (const auto& n : names)
        if (!std::strcmp(name, n.name)) {
            *algo = n.algo;
            return true;
        }
    return false;
}

std::vector<ConvAlgoChoice> conv_algo_choices() {
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    std::vector<ConvAlgoChoice> out;
    for (const auto& kv : t.choices) out.push_back(kv.second);
    return out;
}

void clear_conv_algo_choices() {
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    t.choices.clear();
}

ConvAlgo conv_algo_rule(const ConvShape& s) {
    if (!winograd_applicable(s) || !measurable(s)) return ConvAlgo::Im2col;
    // Few input channels (a network's first layer): the transforms cost more than they save,
    // and im2col copies 9 tiny runs per pixel; the direct path reads the rows in place.
    if (s.c < 8) return ConvAlgo::Direct;
    // F(4x4) wherever its 4x4 output tiles are mostly filled; F(2x2) on small maps.
    if (s.oh >= 6 && s.ow >= 6) return ConvAlgo::Winograd4;
    if (s.oh >= 2 && s.ow >= 2) return ConvAlgo::Winograd2;
    return ConvAlgo::Im2col;
}

bool conv_algo_will_measure(const ConvShape& s, ConvPass pass) {
    if (!winograd_applicable(s) || conv_algo() != ConvAlgo::Tune || !measurable(s)) return false;
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    return !t.choices.count(key_of(s, pass));
}

bool conv_algo_settled(const ConvShape& s, ConvPass pass, ConvAlgo* algo) {
    *algo = conv_algo_fixed(s);
    if (*algo != ConvAlgo::Tune) return true;
    Table& t = table();
    std::lock_guard<std::mutex> lock(t.mu);
    auto it = t.choices.find(key_of(s, pass));
    if (it == t.choices.end()) return false;
    *algo = it->second.algo;
    return true;
}

ConvAlgo conv_algo_fixed(const ConvShape& s) {
    ConvAlgo algo = ConvAlgo::Im2col;
    if (winograd_applicable(s)) algo = conv_algo();
    if (algo == ConvAlgo::Auto) algo = conv_algo_rule(s);
    if (algo == ConvAlgo::Tune && !measurable(s)) algo = ConvAlgo::Im2col;
    return algo;
}

ConvAlgo tune_conv_algo(const ConvShape& s, ConvPass pass, const std::function<void(ConvAlgo)>& run) {
    Table& t = table();
    // Held while measuring: another thread asking for the same shape waits for the answer.
    std::lock_guard<std::mutex> lock(t.mu);
    const Key key = key_of(s, pass);
    auto it = t.choices.find(key);
    if (it != t.choices.end()) {
        run(it->second.algo);
        return it->second.algo;
    }
    const ConvAlgo candidates[] = {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Winograd2, ConvAlgo::Winograd4,
                                   ConvAlgo::Winograd6};
    ConvAlgoChoice choice{s, pass, threads_now(), ConvAlgo::Im2col, {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}};
    for (int rep = 0; rep < kReps; ++rep)
        for (ConvAlgo a : candidates) {
            const auto t0 = std::chrono::steady_clock::now();
            run(a);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            double& best = choice.seconds[static_cast<int>(a)];
            if (rep == 0 || sec < best) best = sec;
        }
    for (ConvAlgo a : candidates)
        if (choice.seconds[static_cast<int>(a)] < kMargin * choice.seconds[static_cast<int>(choice.algo)])
            choice.algo = a;
    if (choice.algo != candidates[4]) run(choice.algo);
    t.choices.emplace(key, choice);
    return choice.algo;
}

}  // namespace seqnet
