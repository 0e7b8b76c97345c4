#include "seqnet/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace seqnet {
namespace {

Isa detect() {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return Isa::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
    return Isa::Generic;
}

Isa from_env(Isa best) {
    const char* s = std::getenv("SEQNET_ISA");
    if (!s || !*s) return best;
    Isa want = best;
    if (!std::strcmp(s, "generic")) want = Isa::Generic;
    else if (!std::strcmp(s, "avx2")) want = Isa::Avx2;
    else if (!std::strcmp(s, "avx512")) want = Isa::Avx512;
    return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

std::atomic<int>& current() {
    static std::atomic<int> isa{static_cast<int>(from_env(detect()))};
    return isa;
}

}  // namespace

Isa detected_isa() {
    static const Isa best = detect();
    return best;
}

Isa active_isa() { return static_cast<Isa>(current().load(std::memory_order_relaxed)); }

Isa set_isa(Isa requested) {
    Isa best = detected_isa();
    Isa isa = static_cast<int>(requested) < static_cast<int>(best) ? requested : best;
    current().store(static_cast<int>(isa));
    return isa;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Avx512: return "avx512";
        case Isa::Avx2: return "avx2";
        default: return "generic";
    }
}

}  // namespace seqnet
