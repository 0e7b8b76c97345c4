#include "h5file.h"

#include <algorithm>
#include <cstring>

namespace seqnet::native {
namespace {

// HDF5 prints its own error stack by default; the runtime reports errors itself.
void silence_hdf5() {
    static bool done = false;
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        done = true;
    }
}

constexpr hsize_t kMaxAttributeBytes = hsize_t(1) << 26;  // 64 MiB of JSON or names
constexpr size_t kAttributeLimit = 64512;                  // Keras' chunking of name lists

// Strings of a string-typed attribute, fixed or variable length.
std::vector<std::string> read_strings(hid_t attr, const std::string& what) {
    H5Handle type(H5Aget_type(attr), H5Tclose);
    H5Handle space(H5Aget_space(attr), H5Sclose);
    if (!type.valid() || !space.valid()) fail(what + ": cannot read its type");
    const H5S_class_t sc = H5Sget_simple_extent_type(space.get());
    hssize_t n = sc == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(space.get());
    if (n < 0 || H5Sget_simple_extent_ndims(space.get()) > 1) fail(what + ": expected a string or a list of strings");
    if (n == 0) return {};
    if (H5Tget_class(type.get()) != H5T_STRING) fail(what + ": expected strings");
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
        if (static_cast<hsize_t>(n) > kMaxAttributeBytes / 8) fail(what + ": too many strings");
        H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
        if (H5Aread(attr, mem.get(), ptrs.data()) < 0) fail(what + ": cannot read the strings");
        hsize_t total = 0;
        for (char* p : ptrs) {
            std::string s = p ? std::string(p, strnlen(p, kMaxAttributeBytes)) : std::string();
            total += s.size();
            out.push_back(std::move(s));
        }
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
        if (total > kMaxAttributeBytes) fail(what + ": too large");
        return out;
    }
    const size_t len = H5Tget_size(type.get());
    if (len == 0 || static_cast<hsize_t>(len) * static_cast<hsize_t>(n) > kMaxAttributeBytes) fail(what + ": too large");
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), len);
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
    std::vector<char> buf(len * static_cast<size_t>(n), '\0');
    if (H5Aread(attr, mem.get(), buf.data()) < 0) fail(what + ": cannot read the strings");
    for (hssize_t k = 0; k < n; ++k) {
        const char* p = buf.data() + k * len;
        out.emplace_back(p, strnlen(p, len));
    }
    return out;
}

bool is_hard_link(hid_t parent, const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return false;
    if (H5Lexists(parent, name.c_str(), H5P_DEFAULT) <= 0) return false;
    H5L_info_t info;
    if (H5Lget_info(parent, name.c_str(), &info, H5P_DEFAULT) < 0) return false;
    return info.type == H5L_TYPE_HARD;
}

H5O_type_t object_type(hid_t parent, const std::string& name) {
    H5O_info_t info;
    if (H5Oget_info_by_name(parent, name.c_str(), &info, H5P_DEFAULT) < 0) return H5O_TYPE_UNKNOWN;
    return info.type;
}

}  // namespace

H5Handle& H5Handle::operator=(H5Handle&& o) noexcept {
    if (this != &o) {
        if (id_ >= 0 && close_) close_(id_);
        id_ = o.id_;
        close_ = o.close_;
        o.id_ = -1;
    }
    return *this;
}

H5Handle::~H5Handle() {
    if (id_ >= 0 && close_) close_(id_);
}

H5Reader::H5Reader(const std::string& path) : path_(path) {
    silence_hdf5();
    if (H5Fis_hdf5(path.c_str()) <= 0) fail(path + ": not an HDF5 file (or it cannot be read)");
    file_ = H5Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file_.valid()) fail(path + ": cannot open the HDF5 file (truncated or corrupt?)");
}

std::optional<std::string> H5Reader::string_attr(hid_t obj, const std::string& what, const char* key) const {
    if (H5Aexists(obj, key) <= 0) return std::nullopt;
    H5Handle attr(H5Aopen(obj, key, H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) fail(path_ + ": cannot open attribute '" + key + "' of " + what);
    auto strings = read_strings(attr.get(), path_ + ": attribute '" + key + "' of " + what);
    if (strings.size() != 1) fail(path_ + ": attribute '" + key + "' of " + what + " must be one string");
    return strings[0];
}

std::vector<std::string> H5Reader::names_attr(hid_t obj, const std::string& what, const char* key) const {
    std::vector<std::string> names;
    auto read = [&](const std::string& k) {
        H5Handle attr(H5Aopen(obj, k.c_str(), H5P_DEFAULT), H5Aclose);
        if (!attr.valid()) fail(path_ + ": cannot open attribute '" + k + "' of " + what);
        for (std::string& s : read_strings(attr.get(), path_ + ": attribute '" + k + "' of " + what)) {
            if (s.empty()) fail(path_ + ": attribute '" + k + "' of " + what + " holds an empty name");
            names.push_back(std::move(s));
        }
    };
    if (H5Aexists(obj, key) > 0) {
        read(key);
        return names;
    }
    const std::string first = std::string(key) + "0";
    if (H5Aexists(obj, first.c_str()) <= 0) fail(path_ + ": attribute '" + key + "' is missing on " + what);
    for (int k = 0;; ++k) {
        const std::string chunk = std::string(key) + std::to_string(k);
        if (H5Aexists(obj, chunk.c_str()) <= 0) break;
        read(chunk);
    }
    return names;
}

bool H5Reader::has_group(hid_t parent, const std::string& name) const {
    return is_hard_link(parent, name) && object_type(parent, name) == H5O_TYPE_GROUP;
}

H5Handle H5Reader::group(hid_t parent, const std::string& what, const std::string& name) const {
    if (!has_group(parent, name)) fail(path_ + ": " + what + ": no group '" + name + "' in the file");
    H5Handle g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail(path_ + ": " + what + ": cannot open group '" + name + "'");
    return g;
}

std::vector<float> H5Reader::dataset(hid_t group, const std::string& what, const std::string& name, const Shape& shape) const {
    // walk the path one hard link at a time: no soft or external links out of the file
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        size_t slash = name.find('/', start);
        parts.push_back(name.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    H5Handle holder;
    hid_t at = group;
    for (size_t k = 0; k + 1 < parts.size(); ++k) {
        if (!has_group(at, parts[k])) fail(path_ + ": " + what + " is missing (no '" + name + "')");
        holder = H5Handle(H5Gopen2(at, parts[k].c_str(), H5P_DEFAULT), H5Gclose);
        if (!holder.valid()) fail(path_ + ": " + what + ": cannot open '" + parts[k] + "'");
        at = holder.get();
    }
    const std::string& leaf = parts.back();
    if (!is_hard_link(at, leaf)) fail(path_ + ": " + what + " is missing or not stored in the file (dataset '" + name + "')");
    if (object_type(at, leaf) != H5O_TYPE_DATASET) fail(path_ + ": " + what + " ('" + name + "') is not a dataset");
    H5Handle ds(H5Dopen2(at, leaf.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(path_ + ": " + what + ": cannot open dataset '" + name + "'");
    H5Handle type(H5Dget_type(ds.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(path_ + ": " + what + " ('" + name + "') does not hold numbers");
    H5Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    if (!dcpl.valid() || H5Pget_external_count(dcpl.get()) != 0 || H5Pget_layout(dcpl.get()) == H5D_VIRTUAL)
        fail(path_ + ": " + what + " ('" + name + "') keeps its data outside the file; refused");
    H5Handle space(H5Dget_space(ds.get()), H5Sclose);
    const int nd = H5Sget_simple_extent_ndims(space.get());
    if (nd < 0 || nd > 32) fail(path_ + ": " + what + ": cannot read the shape of '" + name + "'");
    std::vector<hsize_t> dims(static_cast<size_t>(nd));
    if (nd > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    Shape got;
    for (hsize_t d : dims) got.push_back(d > (hsize_t(1) << 40) ? -2 : static_cast<int64_t>(d));
    if (got != shape)
        fail(path_ + ": " + what + " has shape " + shape_str(shape) + " in the model config, but " + shape_str(got) + " in the file");
    std::vector<float> out(static_cast<size_t>(checked_size(shape, path_ + ": " + what)));
    if (!out.empty() && H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
        fail(path_ + ": cannot read " + what + " ('" + name + "'): the file is truncated or corrupt");
    return out;
}

// ---- writing ------------------------------------------------------------------------------------
namespace {

void check(herr_t status, const std::string& what) {
    if (status < 0) fail(what);
}

void write_string_attr(hid_t obj, const char* key, const std::string& value, const std::string& path) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), std::max<size_t>(1, value.size()));
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle attr(H5Acreate2(obj, key, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) fail(path + ": cannot write attribute " + key);
    std::string buf = value;
    buf.resize(std::max<size_t>(1, value.size()), '\0');
    check(H5Awrite(attr.get(), type.get(), buf.data()), path + ": cannot write attribute " + key);
}

void write_names_part(hid_t obj, const std::string& key, const std::vector<std::string>& names, const std::string& path) {
    if (names.empty()) {  // as Keras: an empty float64 array
        hsize_t zero = 0;
        H5Handle space(H5Screate_simple(1, &zero, nullptr), H5Sclose);
        H5Handle attr(H5Acreate2(obj, key.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        if (!attr.valid()) fail(path + ": cannot write attribute " + key);
        return;
    }
    size_t len = 1;
    for (const std::string& s : names) len = std::max(len, s.size());
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), len);
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    hsize_t n = names.size();
    H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    H5Handle attr(H5Acreate2(obj, key.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!attr.valid()) fail(path + ": cannot write attribute " + key);
    std::vector<char> buf(len * names.size(), '\0');
    for (size_t k = 0; k < names.size(); ++k) std::memcpy(buf.data() + k * len, names[k].data(), names[k].size());
    check(H5Awrite(attr.get(), type.get(), buf.data()), path + ": cannot write attribute " + key);
}

// Keras' rule: one attribute, or the fewest chunks key0, key1, ... under 64 KiB each.
void write_names(hid_t obj, const std::string& key, const std::vector<std::string>& names, const std::string& path) {
    size_t len = 1;
    for (const std::string& s : names) len = std::max(len, s.size());
    if (len > kAttributeLimit) fail(path + ": a name in '" + key + "' is longer than " + std::to_string(kAttributeLimit) + " bytes");
    size_t chunks = std::max<size_t>(1, (len * names.size() + kAttributeLimit - 1) / kAttributeLimit);
    if (chunks == 1) return write_names_part(obj, key, names, path);
    const size_t per = (names.size() + chunks - 1) / chunks;
    for (size_t c = 0, at = 0; at < names.size(); ++c, at += per) {
        std::vector<std::string> part(names.begin() + at, names.begin() + std::min(names.size(), at + per));
        write_names_part(obj, key + std::to_string(c), part, path);
    }
}

}  // namespace

void write_weights_file(const std::string& path, const std::vector<SavedLayer>& layers) {
    silence_hdf5();
    H5Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) fail(path + ": cannot create the file");
    write_string_attr(file.get(), "keras_version", "2.2.4", path);
    write_string_attr(file.get(), "backend", "tensorflow", path);
    std::vector<std::string> layer_names;
    for (const SavedLayer& l : layers) layer_names.push_back(l.name);
    write_names(file.get(), "layer_names", layer_names, path);
    H5Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    H5Pset_create_intermediate_group(lcpl.get(), 1);
    for (const SavedLayer& l : layers) {
        H5Handle g(H5Gcreate2(file.get(), l.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        if (!g.valid()) fail(path + ": cannot create group '" + l.name + "'");
        std::vector<std::string> names;
        for (const Weight* w : l.weights) names.push_back(w->name);
        write_names(g.get(), "weight_names", names, path);
        for (const Weight* w : l.weights) {
            std::vector<hsize_t> dims(w->shape.begin(), w->shape.end());
            H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
            H5Handle ds(H5Dcreate2(g.get(), w->name.c_str(), H5T_IEEE_F32LE, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                        H5Dclose);
            if (!ds.valid()) fail(path + ": cannot create dataset '" + w->name + "' of layer '" + l.name + "'");
            check(H5Dwrite(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w->value.data()),
                  path + ": cannot write '" + w->name + "'");
        }
    }
}

}  // namespace seqnet::native
