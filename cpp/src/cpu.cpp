#include "seqnet/cpu.h"

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace seqnet {
namespace {

Isa detect() {
#if SEQNET_X86_KERNELS && (defined(__x86_64__) || defined(_M_X64))
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
    else std::fprintf(stderr, "seqnet: SEQNET_ISA='%s' is not one of generic, avx2, avx512; ignored\n", s);
    return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

std::atomic<int>& current() {
    static std::atomic<int> isa{static_cast<int>(from_env(detect()))};
    return isa;
}

// Size of the level-`level` data (or unified) cache of cpu0 from sysfs, 0 if unknown.
long sysfs_cache_size(int level) {
    char path[96], buf[64];
    for (int index = 0; index < 8; ++index) {
        auto read = [&](const char* leaf) {
            std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, leaf);
            FILE* f = std::fopen(path, "r");
            if (!f) return false;
            bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
            std::fclose(f);
            return ok;
        };
        if (!read("level") || std::atoi(buf) != level) continue;
        if (!read("type") || std::strncmp(buf, "Instruction", 11) == 0) continue;
        if (!read("size")) continue;
        char* end = nullptr;
        long size = std::strtol(buf, &end, 10);
        if (end && (*end == 'K' || *end == 'k')) size <<= 10;
        else if (end && (*end == 'M' || *end == 'm')) size <<= 20;
        return size;
    }
    return 0;
}

long sysconf_cache_size(int level) {
    long v = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    if (level == 1) v = sysconf(_SC_LEVEL1_DCACHE_SIZE);
    if (level == 2) v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (level == 3) v = sysconf(_SC_LEVEL3_CACHE_SIZE);
#else
    (void)level;
#endif
    return v > 0 ? v : 0;
}

CacheSizes detect_caches() {
    const long defaults[3] = {32L << 10, 1L << 20, 8L << 20};
    long size[3];
    for (int level = 1; level <= 3; ++level) {
        long s = sysfs_cache_size(level);
        if (s <= 0) s = sysconf_cache_size(level);
        // Guard against nonsense (some VMs report 0 or bytes-as-KiB).
        size[level - 1] = s >= 4096 ? s : defaults[level - 1];
    }
    return {size[0], size[1], size[2]};
}

}  // namespace

const CacheSizes& cache_sizes() {
    static const CacheSizes sizes = detect_caches();
    return sizes;
}

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
