// predict_h5 MODEL.h5 INPUT.npy OUTPUT.npy [--batch-size N] [--threads N] [--repeat N]
//
// Loads a Keras 2 model saved by seqnet or tf-keras (`model.save("model.h5")`), runs predict on
// the batch-first float32 array in INPUT.npy (int32 for an Embedding input) and writes the float32
// result to OUTPUT.npy. A model with several inputs reads INPUT_0.npy, INPUT_1.npy, ... (INPUT
// without its .npy suffix), one with several outputs writes OUTPUT_0.npy, OUTPUT_1.npy, ...
// --repeat N runs predict N more times and prints the mean seconds per call (a benchmark).
// `predict_h5 MODEL.h5 --info` lists the inputs, outputs and layers. Any error: a message on
// stderr and exit status 1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "seqnet/model.h"
#include "seqnet/npy.h"
#include "seqnet/runtime.h"

namespace {

std::string numbered(const std::string& path, size_t index, size_t count) {
    if (count == 1) return path;
    std::string stem = path;
    if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".npy") == 0) stem.resize(stem.size() - 4);
    return stem + "_" + std::to_string(index) + ".npy";
}

std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t k = 0; k < s.size(); ++k) out += (k ? ", " : "") + (s[k] < 0 ? std::string("None") : std::to_string(s[k]));
    return out + ")";
}

long parse_count(const char* flag, const char* text) {
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (!end || *end || v < 1) throw std::runtime_error(std::string(flag) + " needs a positive integer, got '" + text + "'");
    return v;
}

int usage() {
    std::fprintf(stderr, "usage: predict_h5 MODEL.h5 INPUT.npy OUTPUT.npy [--batch-size N] [--threads N] [--repeat N]\n"
                         "       predict_h5 MODEL.h5 --info\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 3 && std::string(argv[2]) == "--info") {
            seqnet::Model model = seqnet::Model::load(argv[1]);
            for (const auto& t : model.inputs())
                std::printf("input  %s %s %s\n", t.name.c_str(), shape_str(t.shape).c_str(), t.dtype == seqnet::DType::Int32 ? "int32" : "float32");
            for (const auto& t : model.outputs()) std::printf("output %s %s float32\n", t.name.c_str(), shape_str(t.shape).c_str());
            for (const auto& l : model.layers()) std::printf("layer  %s %s %lld\n", l.name.c_str(), l.class_name.c_str(), static_cast<long long>(l.params));
            return 0;
        }
        if (argc < 4) return usage();
        long batch = 32, repeat = 0;
        for (int k = 4; k < argc; k += 2) {
            const std::string flag = argv[k];
            if (k + 1 >= argc) return usage();
            if (flag == "--batch-size") batch = parse_count("--batch-size", argv[k + 1]);
            else if (flag == "--threads") seqnet::set_num_threads(static_cast<int>(parse_count("--threads", argv[k + 1])));
            else if (flag == "--repeat") repeat = parse_count("--repeat", argv[k + 1]);
            else return usage();
        }
        seqnet::Model model = seqnet::Model::load(argv[1]);
        const size_t n_in = model.inputs().size();
        std::vector<seqnet::Tensor> xs;
        for (size_t k = 0; k < n_in; ++k) xs.push_back(seqnet::read_npy(numbered(argv[2], k, n_in)));
        std::vector<seqnet::Tensor> ys = model.predict(xs, batch);
        if (repeat > 0) {
            const auto start = std::chrono::steady_clock::now();
            for (long r = 0; r < repeat; ++r) ys = model.predict(xs, batch);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::printf("seconds_per_predict %.9f\n", s / static_cast<double>(repeat));
        }
        for (size_t k = 0; k < ys.size(); ++k) seqnet::write_npy(numbered(argv[3], k, ys.size()), ys[k]);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "predict_h5: error: %s\n", e.what());
        return 1;
    }
}
