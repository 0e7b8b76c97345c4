// The state behind seqnet::Model: the plan read from the file (tensor slots and one step per
// layer call, nested models inlined) and the training state. Shared by model.cpp and train.cpp.
#pragma once
#include <map>

#include "graph.h"
#include "seqnet/model.h"

namespace seqnet {

struct Model::Impl {
    struct Step {
        native::Runner* runner = nullptr;
        std::vector<int> in_slots, out_slots;
    };
    std::string name, path;
    std::vector<std::unique_ptr<native::Runner>> runners;  // owned, one per layer
    std::vector<Step> steps;
    int n_slots = 0;
    std::vector<int> output_slots;  // inputs are slots 0..n-1
    std::vector<TensorSpec> inputs, outputs;
    std::vector<LayerInfo> infos;
    // The file's top-level layers and their weights, in order (save_weights writes them).
    std::vector<std::pair<std::string, std::vector<native::WeightPtr>>> top_layers;
    // A plain chain (Network._as_chain): one input and output, one single-input single-output
    // step after another, no masks, no shared layer, no activity regularizer.
    bool chain = false;
    std::vector<bool> top_level;  // per step: a layer of the outermost model (may fold)

    // ---- training (train.cpp) ----
    struct Training;
    std::shared_ptr<Training> training;

    // Runs the steps on one batch; returns the output values (owned by the plan until the next
    // run: each step's outputs live in step_outs, reused from batch to batch, and slot[s]
    // points at the value of tensor slot s).
    std::vector<const native::Value*> run(std::vector<native::Value> xs, bool train);
    std::vector<native::Value> input_values;
    std::vector<std::vector<native::Value>> step_outs;
    std::vector<const native::Value*> slot;
};

}  // namespace seqnet
