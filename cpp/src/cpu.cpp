#include "seqnet/cpu.h"

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#if SEQNET_AMX_KERNELS && defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#define SEQNET_AMX_PROBE 1
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include <omp.h>

#include <atomic>
#include <cstdint>
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

// AMX-BF16 and AMX-TILE in CPUID, their state enabled in XCR0, and the tile data state
// (XFEATURE 18) granted to this process: Linux leaves it off until asked.
bool probe_amx() {
#if SEQNET_AMX_PROBE
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return false;  // OSXSAVE
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!(edx & (1u << 22)) || !(edx & (1u << 24))) return false;  // AMX-BF16, AMX-TILE
    unsigned xlo, xhi;
    asm volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x60000u) != 0x60000u) return false;  // XTILECFG, XTILEDATA
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
    return false;
#endif
}

bool amx_from_env() {
    const char* s = std::getenv("SEQNET_AMX");
    if (!s || !*s || !std::strcmp(s, "1")) return true;
    if (!std::strcmp(s, "0")) return false;
    std::fprintf(stderr, "seqnet: SEQNET_AMX='%s' is not 0 or 1; ignored\n", s);
    return true;
}

std::atomic<bool>& amx_wanted() {
    static std::atomic<bool> on{amx_from_env()};
    return on;
}

}  // namespace

namespace {

// The calling thread's floating-point control register, and its bits that treat subnormals as
// zero, as inputs and as results: x86's MXCSR DAZ and FTZ, AArch64's FPCR.FZ. Elsewhere none,
// and the modes below do nothing.
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFlushBits = DenormalsMode::kFlush;
unsigned read_control() { return _mm_getcsr(); }
void write_control(unsigned v) { _mm_setcsr(v); }
#elif defined(__aarch64__)
constexpr unsigned kFlushBits = 1u << 24;  // FPCR.FZ (the register's upper half is reserved, 0)
unsigned read_control() {
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(v));
    return unsigned(v);
}
void write_control(unsigned v) {
    const uint64_t w = v;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(w));
}
#else
constexpr unsigned kFlushBits = 0;
unsigned read_control() { return 0; }
void write_control(unsigned) {}
#endif

thread_local unsigned t_worker_saved = 0;  // a worker's own mode, while a kPoolKeeps scope runs
thread_local int t_pool_flushing = 0;      // workers of this thread's pool set by kPoolFlushes

// Every worker of the calling thread's pool (threads 1..n-1 of an n-thread region) saves its
// mode and flushes (on), or takes back the saved mode (off).
void set_workers(int threads, bool on) {
#pragma omp parallel num_threads(threads)
    if (omp_get_thread_num() != 0) {
        if (on) {
            t_worker_saved = read_control();
            write_control(t_worker_saved | kFlushBits);
        } else {
            write_control(t_worker_saved);
        }
    }
}

}  // namespace

unsigned DenormalsMode::current() {
    return kFlushBits != 0 && (read_control() & kFlushBits) == kFlushBits ? kFlush : kKeep;
}

DenormalsMode::DenormalsMode(unsigned mode) : saved_(read_control()) {
    if (kFlushBits) write_control((saved_ & ~kFlushBits) | (mode == kFlush ? kFlushBits : 0u));
}

DenormalsMode::~DenormalsMode() {
    if (kFlushBits) write_control(saved_);
}

FlushScope::FlushScope(Pool pool) {
    if (!kFlushBits) return;
    const unsigned csr = read_control();
    if ((csr & kFlushBits) == kFlushBits || omp_in_parallel()) return;
    saved_ = csr;
    active_ = true;
    write_control(csr | kFlushBits);
    const int threads = omp_get_max_threads();
    if (threads <= 1) return;
    if (pool == kPoolKeeps) {
        set_workers(threads, true);
        restore_threads_ = threads;
    } else if (threads > t_pool_flushing) {
        set_workers(threads, true);
        t_pool_flushing = threads;
    }
}

FlushScope::~FlushScope() {
    if (!active_) return;
    if (restore_threads_ > 1) set_workers(restore_threads_, false);
    write_control(saved_);
}

bool amx_available() {
    static const bool available = probe_amx();
    return available;
}

bool amx_active() {
    return amx_wanted().load(std::memory_order_relaxed) && active_isa() == Isa::Avx512 && amx_available();
}

bool set_amx(bool on) {
    amx_wanted().store(on);
    return amx_active();
}

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
