// seqnet._engine: the pybind11 glue. Each entry point checks dtype, contiguity and
// shapes (ValueError with the shapes), releases the GIL, and calls one kernel.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "seqnet/cpu.h"
#include "seqnet/runtime.h"

namespace py = pybind11;

PYBIND11_MODULE(_engine, m) {
    m.doc() = "seqnet's native engine: C++ kernels with OpenMP and SIMD.";
    // The enums come first so that every later signature names them.
    seqnet::bind_enums(m);
    m.def("set_num_threads", &seqnet::set_num_threads, py::arg("n"));
    m.def("get_num_threads", &seqnet::get_num_threads);
    m.def("set_contention_backoff", &seqnet::set_contention_backoff, py::arg("enabled"),
          "Whether kernels drop to one thread for a while when another process competes for the cores "
          "(default True). Returns the previous setting.");
    m.def("active_isa", [] { return seqnet::isa_name(seqnet::active_isa()); });
    m.def("detected_isa", [] { return seqnet::isa_name(seqnet::detected_isa()); });
    m.def("set_isa", [](const std::string& name) {
        seqnet::Isa want;
        if (name == "generic") want = seqnet::Isa::Generic;
        else if (name == "avx2") want = seqnet::Isa::Avx2;
        else if (name == "avx512") want = seqnet::Isa::Avx512;
        else throw py::value_error("set_isa: expected 'generic', 'avx2' or 'avx512', got '" + name + "'");
        return std::string(seqnet::isa_name(seqnet::set_isa(want)));
    }, py::arg("name"), "Caps the instruction set (clamped to the CPU's); returns the name of the one in effect.");
    m.def("set_isa", [](seqnet::Isa isa) {
        const int code = static_cast<int>(isa);
        if (code < 0 || code > static_cast<int>(seqnet::Isa::Avx512))
            throw py::value_error("set_isa: unknown instruction set code " + std::to_string(code));
        return std::string(seqnet::isa_name(seqnet::set_isa(isa)));
    }, py::arg("name"));
    m.def("amx_available", &seqnet::amx_available,
          "Whether this CPU has AMX-BF16 and the OS granted this process the tile state.");
    m.def("amx_active", &seqnet::amx_active,
          "Whether GEMMs use the AMX tile unit now (available, isa avx512, not turned off).");
    m.def("set_amx", &seqnet::set_amx, py::arg("enabled"),
          "Turns the AMX GEMM path on or off (SEQNET_AMX=0 starts it off); returns amx_active().");
    m.def("cache_sizes", [] {
        const seqnet::CacheSizes& c = seqnet::cache_sizes();
        py::dict d;
        d["l1d"] = c.l1d, d["l2"] = c.l2, d["l3"] = c.l3;
        return d;
    }, "The data cache sizes in bytes (per core for l1d and l2) that the kernels block for.");
    m.def("fma_peak", [](py::object threads_obj, double seconds) {
        int threads = seqnet::get_num_threads();
        if (!threads_obj.is_none()) {
            if (py::isinstance<py::bool_>(threads_obj) || !py::isinstance<py::int_>(threads_obj))
                throw py::type_error("fma_peak: threads must be an int or None, got " +
                                     std::string(py::str(py::type::of(threads_obj).attr("__name__"))));
            const long long t = threads_obj.cast<long long>();
            if (t < 1 || t > 4096) throw py::value_error("fma_peak: threads must be in [1, 4096], got " + std::to_string(t));
            threads = int(t);
        }
        if (!(seconds > 0.0 && seconds <= 10.0))
            throw py::value_error("fma_peak: seconds must be in (0, 10], got " + std::string(py::str(py::float_(seconds))));
        py::gil_scoped_release release;
        return seqnet::fma_peak_gflops(threads, seconds);
    }, py::arg("threads") = py::none(), py::arg("seconds") = 0.03,
          "The FP32 multiply-add peak of `threads` threads (default: the engine's thread count) now, in GFLOP/s: "
          "independent multiply-adds on the active instruction set's widest vectors, for about `seconds` "
          "(the best of three runs). The ceiling any kernel can reach.");
    seqnet::bind_gemm(m);
    seqnet::bind_nn(m);
    seqnet::bind_conv(m);
    seqnet::bind_rnn(m);
    seqnet::bind_batchnorm(m);
    seqnet::bind_conv3d(m);
    seqnet::bind_conv_extra(m);
}
