// .npy reading and writing: the header is parsed strictly (a dict with 'descr', 'fortran_order'
// and 'shape'), the data size checked against the file size before anything is allocated.
#include "seqnet/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "graph.h"

namespace seqnet {

using native::fail;

namespace {

std::string value_of(const std::string& header, const std::string& key, const std::string& path) {
    const std::string k = "'" + key + "'";
    size_t at = header.find(k);
    if (at == std::string::npos) fail(path + ": the .npy header has no " + k);
    at = header.find(':', at + k.size());
    if (at == std::string::npos) fail(path + ": bad .npy header");
    ++at;
    while (at < header.size() && header[at] == ' ') ++at;
    size_t end = at;
    if (at < header.size() && header[at] == '(') {
        end = header.find(')', at);
        if (end == std::string::npos) fail(path + ": bad shape in the .npy header");
        return header.substr(at, end - at + 1);
    }
    if (at < header.size() && header[at] == '\'') {
        end = header.find('\'', at + 1);
        if (end == std::string::npos) fail(path + ": bad .npy header");
        return header.substr(at + 1, end - at - 1);
    }
    while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
    return header.substr(at, end - at);
}

}  // namespace

Tensor read_npy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path + ": cannot open the file");
    in.seekg(0, std::ios::end);
    const int64_t file_size = static_cast<int64_t>(in.tellg());
    in.seekg(0);
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail(path + ": not a .npy file");
    const int major = static_cast<unsigned char>(magic[6]);
    uint32_t header_len = 0;
    int64_t prefix = 0;
    if (major == 1) {
        unsigned char b[2];
        if (!in.read(reinterpret_cast<char*>(b), 2)) fail(path + ": truncated .npy header");
        header_len = b[0] | (b[1] << 8);
        prefix = 10;
    } else if (major == 2 || major == 3) {
        unsigned char b[4];
        if (!in.read(reinterpret_cast<char*>(b), 4)) fail(path + ": truncated .npy header");
        header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
        prefix = 12;
    } else {
        fail(path + ": unsupported .npy version " + std::to_string(major));
    }
    if (header_len > (1u << 20) || prefix + header_len > file_size) fail(path + ": bad .npy header length");
    std::string header(header_len, '\0');
    if (!in.read(&header[0], header_len)) fail(path + ": truncated .npy header");
    const std::string descr = value_of(header, "descr", path);
    if (value_of(header, "fortran_order", path).find("False") == std::string::npos)
        fail(path + ": Fortran-ordered arrays are not supported (save a C-contiguous array)");
    const std::string shape_text = value_of(header, "shape", path);
    Tensor t;
    {
        std::string inner = shape_text.substr(1, shape_text.size() - 2);
        std::stringstream ss(inner);
        std::string item;
        while (std::getline(ss, item, ',')) {
            size_t a = item.find_first_not_of(' '), b = item.find_last_not_of(' ');
            if (a == std::string::npos) continue;
            item = item.substr(a, b - a + 1);
            if (item.empty() || item.size() > 15 || item.find_first_not_of("0123456789") != std::string::npos)
                fail(path + ": bad shape " + shape_text + " in the .npy header");
            t.shape.push_back(std::stoll(item));
        }
    }
    int64_t item = 0;
    if (descr == "<f4" || descr == "<i4") item = 4;
    else if (descr == "<f8" || descr == "<i8") item = 8;
    else fail(path + ": unsupported dtype '" + descr + "' (float32, float64, int32 or int64, little-endian)");
    const int64_t n = t.size();
    if (native::checked_mul(n, item, path) > file_size - prefix - header_len)
        fail(path + ": the file is truncated: shape " + native::shape_str(t.shape) + " needs more data than it holds");
    std::vector<char> raw(static_cast<size_t>(n * item));
    if (n && !in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) fail(path + ": truncated .npy data");
    if (descr[1] == 'f') {
        t.dtype = DType::Float32;
        t.data.resize(static_cast<size_t>(n));
        if (item == 4) std::memcpy(t.data.data(), raw.data(), raw.size());
        else
            for (int64_t k = 0; k < n; ++k) {
                double v;
                std::memcpy(&v, raw.data() + k * 8, 8);
                t.data[k] = static_cast<float>(v);
            }
    } else {
        t.dtype = DType::Int32;
        t.ints.resize(static_cast<size_t>(n));
        if (item == 4) std::memcpy(t.ints.data(), raw.data(), raw.size());
        else
            for (int64_t k = 0; k < n; ++k) {
                int64_t v;
                std::memcpy(&v, raw.data() + k * 8, 8);
                if (v < INT32_MIN || v > INT32_MAX) fail(path + ": value " + std::to_string(v) + " does not fit int32");
                t.ints[k] = static_cast<int32_t>(v);
            }
    }
    return t;
}

void write_npy(const std::string& path, const Tensor& t) {
    std::string shape = "(";
    for (size_t k = 0; k < t.shape.size(); ++k) shape += std::to_string(t.shape[k]) + (t.shape.size() == 1 || k + 1 < t.shape.size() ? "," : "");
    shape += ")";
    std::string header = std::string("{'descr': '") + (t.dtype == DType::Int32 ? "<i4" : "<f4") +
                         "', 'fortran_order': False, 'shape': " + shape + ", }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    if (!out) fail(path + ": cannot create the file");
    out.write("\x93NUMPY\x01\x00", 8);
    const uint16_t len = static_cast<uint16_t>(header.size());
    const char lb[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(lb, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    const int64_t n = t.size();
    if (t.dtype == DType::Int32) {
        if (static_cast<int64_t>(t.ints.size()) != n) fail(path + ": the tensor's data does not match its shape");
        out.write(reinterpret_cast<const char*>(t.ints.data()), static_cast<std::streamsize>(n * 4));
    } else {
        if (static_cast<int64_t>(t.data.size()) != n) fail(path + ": the tensor's data does not match its shape");
        out.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(n * 4));
    }
    if (!out) fail(path + ": cannot write the file");
}

}  // namespace seqnet
