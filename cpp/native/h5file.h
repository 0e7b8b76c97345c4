// Checked reading and writing of the Keras 2 HDF5 layout with the HDF5 C library. Every
// failure (a missing attribute, a link out of the file, a dataset of the wrong shape or
// type) is a ModelError naming the file and the object; nothing is read before its size
// has been checked.
#pragma once
#include <hdf5.h>

#include <optional>
#include <string>
#include <vector>

#include "graph.h"

namespace seqnet::native {

// An HDF5 identifier closed by its destructor.
class H5Handle {
public:
    using Closer = herr_t (*)(hid_t);
    H5Handle() = default;
    H5Handle(hid_t id, Closer close) : id_(id), close_(close) {}
    H5Handle(const H5Handle&) = delete;
    H5Handle& operator=(const H5Handle&) = delete;
    H5Handle(H5Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
    H5Handle& operator=(H5Handle&& o) noexcept;
    ~H5Handle();
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

private:
    hid_t id_ = -1;
    Closer close_ = nullptr;
};

class H5Reader {
public:
    explicit H5Reader(const std::string& path);
    const std::string& path() const { return path_; }
    hid_t root() const { return file_.get(); }
    // A string attribute (fixed or variable length), or nullopt when absent.
    std::optional<std::string> string_attr(hid_t obj, const std::string& what, const char* key) const;
    // A list of names from attribute `key` or its chunks key0, key1, ...; ModelError when absent.
    std::vector<std::string> names_attr(hid_t obj, const std::string& what, const char* key) const;
    // The group at `name` below `parent` (a hard link, a group), or ModelError.
    H5Handle group(hid_t parent, const std::string& what, const std::string& name) const;
    bool has_group(hid_t parent, const std::string& name) const;
    // The numeric dataset at the path `name` (components separated by '/') below `group`,
    // checked to have exactly `shape`, read as float32.
    std::vector<float> dataset(hid_t group, const std::string& what, const std::string& name, const Shape& shape) const;

private:
    std::string path_;
    H5Handle file_;
};

// One layer's weights for save_weights.
struct SavedLayer {
    std::string name;
    std::vector<const Weight*> weights;
};
// Writes Keras 2's weights-only layout: root attributes layer_names, backend, keras_version;
// a group per layer with weight_names and one dataset per weight.
void write_weights_file(const std::string& path, const std::vector<SavedLayer>& layers);

}  // namespace seqnet::native
