// Run-time CPU dispatch: which instruction set the kernels use.
#pragma once

namespace seqnet {

// Ordered from most portable to most capable (seqnet._engine.Isa: generic, avx2, avx512).
enum class Isa : int { Generic = 0, Avx2 = 1, Avx512 = 2 };

// The best instruction set this CPU supports, capped by the SEQNET_ISA
// environment variable ("generic", "avx2", "avx512") read once at first use,
// so the fallback paths can be tested on any machine.
Isa active_isa();

// Overrides the instruction set (clamped to what the CPU supports); returns the one in effect.
Isa set_isa(Isa requested);

// The best instruction set this CPU supports, ignoring any override.
Isa detected_isa();

const char* isa_name(Isa isa);

// Data cache sizes in bytes, for blocking: L1d and L2 of one core, L3 shared (0 when absent).
// Read once from Linux sysfs, else sysconf; defaults (32 KiB, 1 MiB, 8 MiB) otherwise.
struct CacheSizes {
    long l1d, l2, l3;
};
const CacheSizes& cache_sizes();

}  // namespace seqnet
