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

// The FP32 multiply-add peak of `threads` threads now, in GFLOP/s: each runs independent
// multiply-adds on the active instruction set's widest vectors and nothing else, for about
// `seconds` in all (the best of three runs). The ceiling of every kernel; a VM's cores may
// reach more or less of it from one minute to the next.
double fma_peak_gflops(int threads, double seconds = 0.03);

// Intel AMX. With it, sgemm runs its products on the bf16 tile unit at FP32 accuracy (each
// float split exactly into three bf16 parts, six partial products: gemm_amx.cpp), about twice
// the FP32 FMA rate. amx_available(): the CPU has AMX-BF16 and the OS granted this process the
// tile state (Linux arch_prctl). amx_active(): available, the active ISA is avx512, and not
// turned off by SEQNET_AMX=0 (read once at first use) or set_amx(false).
bool amx_available();
bool amx_active();
// Turns AMX use on or off (on only where available); returns amx_active().
bool set_amx(bool on);

// How the calling thread treats subnormal floats, set for a scope and restored after. Flush:
// as zero, as inputs and as results (x86-64: MXCSR's DAZ and FTZ bits; AArch64: FPCR.FZ), as TensorFlow's own
// threads do; for kernels whose values decay toward zero (an RNN's gradients through time),
// where each subnormal costs an assist of about a hundred cycles. Every thread that computes
// part of a result must use the same mode, or the result would depend on which thread
// computed what: parallel regions that may run under Flush hand the caller's mode to their
// threads (current()). A no-op on other CPUs.
class DenormalsMode {
   public:
    static constexpr unsigned kFlush = 0x8040u, kKeep = 0u;
    // The calling thread's mode now: kFlush or kKeep.
    static unsigned current();
    explicit DenormalsMode(unsigned mode);
    ~DenormalsMode();
    DenormalsMode(const DenormalsMode&) = delete;
    DenormalsMode& operator=(const DenormalsMode&) = delete;

   private:
    unsigned saved_ = 0;
};

// The engine's rule for subnormals, as TensorFlow's kernels have it: every engine
// computation treats them as zero, on every thread. One subnormal input costs a product about
// a hundred cycles (sgemm 128x512x512 with a subnormal dY: 0.37 ms normal, 68 ms subnormal), so
// a few saturated sigmoids (outputs below 1.2e-38 for inputs below -87.3) made a whole step 10x
// slower. A FlushScope flushes on the calling thread for its lifetime, then restores it; it
// does nothing when that thread already flushes (an enclosing scope). Its worker threads (the
// calling thread's OpenMP pool, the threads its parallel regions run on) flush too:
//   kPoolKeeps: for this scope only; one region sets them on entry and one restores them on
//       exit (a few microseconds): what a native caller gets (seqnet::Model::predict), whose
//       own OpenMP code shares the pool.
//   kPoolFlushes: from now on; a region runs only the first time and when the thread count
//       grows (new workers): the Python module's call guard, whose pool only the engine uses.
class FlushScope {
   public:
    enum Pool { kPoolKeeps, kPoolFlushes };
    explicit FlushScope(Pool pool);
    ~FlushScope();
    FlushScope(const FlushScope&) = delete;
    FlushScope& operator=(const FlushScope&) = delete;

   private:
    unsigned saved_ = 0;
    int restore_threads_ = 0;  // workers to restore on exit (kPoolKeeps), 0: none
    bool active_ = false;
};

// Data cache sizes in bytes, for blocking: L1d and L2 of one core, L3 shared (0 when absent).
// Read once from Linux sysfs, else sysconf; defaults (32 KiB, 1 MiB, 8 MiB) otherwise.
struct CacheSizes {
    long l1d, l2, l3;
};
const CacheSizes& cache_sizes();

}  // namespace seqnet
