#include "seqnet/gemm.h"

#include "bindings.h"

#include <string>
#include <vector>

namespace seqnet {

std::string shape_str(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (i) s += ", ";
        s += std::to_string(a.shape(i));
    }
    if (a.ndim() == 1) s += ",";
    return s + ")";
}

namespace {

// c = alpha * op(a) @ op(b) + beta * c (+ bias), all 2-D float32 C-contiguous.
void gemm_into(const py::handle& a_obj, const py::handle& b_obj, const py::handle& c_obj, bool ta,
               bool tb, float alpha, float beta, const py::handle& bias_obj) {
    FArray a = checked(a_obj, "sgemm: a", 2), b = checked(b_obj, "sgemm: b", 2),
           c = checked(c_obj, "sgemm: c", 2);
    int64_t m = ta ? a.shape(1) : a.shape(0), k = ta ? a.shape(0) : a.shape(1);
    int64_t kb = tb ? b.shape(1) : b.shape(0), n = tb ? b.shape(0) : b.shape(1);
    if (k != kb)
        throw py::value_error("sgemm: inner dimensions differ: op(a) is " + std::to_string(m) + "x" +
                              std::to_string(k) + ", op(b) is " + std::to_string(kb) + "x" + std::to_string(n));
    if (c.shape(0) != m || c.shape(1) != n)
        throw py::value_error("sgemm: c must have shape (" + std::to_string(m) + ", " + std::to_string(n) +
                              "), got " + shape_str(c));
    if (!c.writeable()) throw py::value_error("sgemm: c is read-only");
    GemmEpilogue ep;
    FArray bias;
    if (!bias_obj.is_none()) {
        bias = checked(bias_obj, "sgemm: bias", 1);
        if (bias.shape(0) != n)
            throw py::value_error("sgemm: bias must have shape (" + std::to_string(n) + ",), got " + shape_str(bias));
        ep.bias = bias.data();
    }
    const float* ap = a.data();
    const float* bp = b.data();
    float* cp = c.mutable_data();
    ComputeScope compute;
    sgemm(ta, tb, m, n, k, alpha, ap, a.shape(1), bp, b.shape(1), beta, cp, n, ep.bias ? &ep : nullptr);
}

// c[q] = alpha * op(a[q]) @ op(b) + beta * c[q] for each q: products sharing op(b).
void gemm_stacked_into(const py::list& a_list, const py::handle& b_obj, const py::list& c_list, bool ta, bool tb,
                       float alpha, float beta) {
    if (a_list.size() != c_list.size() || a_list.size() == 0)
        throw py::value_error("sgemm_stacked: a and c must be lists of the same nonzero length, got " +
                              std::to_string(a_list.size()) + " and " + std::to_string(c_list.size()));
    FArray b = checked(b_obj, "sgemm_stacked: b", 2);
    const int64_t k = tb ? b.shape(1) : b.shape(0), n = tb ? b.shape(0) : b.shape(1);
    std::vector<FArray> as, cs;
    std::vector<int64_t> m, lda, ldc;
    std::vector<const float*> ap;
    std::vector<float*> cp;
    for (size_t q = 0; q < a_list.size(); ++q) {
        const std::string at = "sgemm_stacked: a[" + std::to_string(q) + "]", ct = "sgemm_stacked: c[" + std::to_string(q) + "]";
        as.push_back(checked(a_list[q], at.c_str(), 2));
        cs.push_back(checked(c_list[q], ct.c_str(), 2));
        const FArray &a = as.back(), &c = cs.back();
        const int64_t mq = ta ? a.shape(1) : a.shape(0), kq = ta ? a.shape(0) : a.shape(1);
        if (kq != k)
            throw py::value_error(at + ": op(a) has " + std::to_string(kq) + " columns, op(b) " + std::to_string(k) + " rows");
        if (c.shape(0) != mq || c.shape(1) != n)
            throw py::value_error(ct + " must have shape (" + std::to_string(mq) + ", " + std::to_string(n) + "), got " +
                                  shape_str(c));
        if (!c.writeable()) throw py::value_error(ct + " is read-only");
        m.push_back(mq), lda.push_back(a.shape(1)), ldc.push_back(n);
        ap.push_back(a.data()), cp.push_back(cs.back().mutable_data());
    }
    ComputeScope compute;
    sgemm_stacked(ta, tb, int64_t(m.size()), m.data(), n, k, alpha, ap.data(), lda.data(), b.data(), b.shape(1), beta,
                  cp.data(), ldc.data());
}

// The GemmTuning flag of the path rule `name`; an unknown name is a ValueError.
bool& gemm_rule_field(GemmTuning& t, const std::string& name) {
    if (name == "threaded_cols") return t.threaded_cols;
    if (name == "shared_l3_blocks") return t.shared_l3_blocks;
    if (name == "packed_a") return t.packed_a;
    throw py::value_error("gemm rule: name must be 'threaded_cols', 'shared_l3_blocks' or 'packed_a', got '" + name +
                          "'");
}

}  // namespace

void bind_gemm(py::module_& m) {
    m.def("sgemm_stacked", &gemm_stacked_into, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
          py::arg("trans_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
          "c[q] = alpha * op(a[q]) @ op(b) + beta * c[q] for each q, in place: products sharing op(b) in one call "
          "(op(b) packed once; on the AMX path the rows count together).");
    m.def("sgemm", &gemm_into, py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
          py::arg("trans_b") = false, py::arg("alpha") = 1.0f, py::arg("beta") = 0.0f,
          py::arg("bias") = py::none(),
          "c = alpha * op(a) @ op(b) + beta * c (+ bias), in place; 2-D float32 C-contiguous arrays.");
    m.def("matmul", [](const py::handle& a_obj, const py::handle& b_obj, bool ta, bool tb) {
        FArray a = checked(a_obj, "matmul: a", 2), b = checked(b_obj, "matmul: b", 2);
        int64_t m_ = ta ? a.shape(1) : a.shape(0), n = tb ? b.shape(0) : b.shape(1);
        FArray c({m_, n});
        gemm_into(a, b, c, ta, tb, 1.0f, 0.0f, py::none());
        return c;
    }, py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
       "op(a) @ op(b) as a new float32 array.");
    m.def("set_matmul_precision", [](const std::string& name) {
        if (name == "highest") set_matmul_precision(MatmulPrecision::Highest);
        else if (name == "high") set_matmul_precision(MatmulPrecision::High);
        else throw py::value_error("set_matmul_precision: expected 'highest' or 'high', got '" + name + "'");
    }, py::arg("precision"),
          "'highest' (the default: FP32 accuracy) or 'high' (the AMX path keeps 3 of its 6 bf16 partial products: "
          "about twice as fast there, error about 2^-16 of sum |a b|).");
    m.def("matmul_precision", [] { return std::string(matmul_precision() == MatmulPrecision::High ? "high" : "highest"); },
          "The precision set_matmul_precision set: 'highest' or 'high'.");
    m.def("set_gemm_prefetch", [](bool on) {
        GemmTuning t = gemm_tuning();
        t.prefetch = on;
        set_gemm_tuning(t);
    }, py::arg("on"),
          "Turns sgemm's prefetch plans (the next tile's lines asked for while a tile computes) on (the default) or off: "
          "for benchmarks; results are the same either way.");
    m.def("gemm_prefetch", [] { return gemm_tuning().prefetch; }, "Whether sgemm's prefetch plans are on.");
    m.def("set_gemm_rule", [](const std::string& name, bool on) {
        GemmTuning t = gemm_tuning();
        gemm_rule_field(t, name) = on;
        set_gemm_tuning(t);
    }, py::arg("name"), py::arg("on"),
          "Turns one of sgemm's path rules on (the default) or off, for benchmarks; results are the same either way. "
          "'threaded_cols': on several threads, the column path (A read in place, B packed once) for larger products "
          "than the small-batch ones; 'shared_l3_blocks': the packed path's blocks of B kept to 1.5 MiB for wide "
          "products; 'packed_a': on one thread, the packed path (A copied into panels) for products of a few rows or "
          "a batch of them.");
    m.def("gemm_rule", [](const std::string& name) {
        GemmTuning t = gemm_tuning();
        return gemm_rule_field(t, name);
    }, py::arg("name"), "Whether sgemm's path rule `name` ('threaded_cols', 'shared_l3_blocks' or 'packed_a') is on.");
    m.def("amx_tile_product_ns", [] {
        ComputeScope compute;
        return amx_tile_product_ns();
    }, "Nanoseconds per bf16 tile product of a bare loop on this thread's core (0.0 without AMX): the tile unit's "
       "rate now, for benchmarks on shared hosts (about 16 cycles at full rate).");
    m.def("gemm_uses_amx", &sgemm_uses_amx, py::arg("m"), py::arg("n"), py::arg("k"),
          "Whether sgemm runs an m x n x k product on the AMX tile unit now (see amx_active).");
    m.def("gemm_kernel_name", [] { return std::string(gemm_kernel_name()); },
          "The GEMM microkernel in use (follows set_isa), e.g. 'avx512 14x32'.");
}

}  // namespace seqnet
