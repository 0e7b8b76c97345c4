// The pieces every recurrent cell shares (see rnn_common.h).
#include "rnn_common.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "seqnet/cpu.h"
#include "seqnet/dense.h"
#include "seqnet/gemm.h"
#include "../contention.h"
#include "../gemm/gemm_kernels.h"

namespace seqnet {
namespace rnn_detail {
namespace {

// dst[b, t, :] = src[b, t, :] * mask[b, :] (or += when accumulate); rows of n floats,
// mask rows of n floats, `steps` rows per batch entry.
void scale_rows(const float* src, const float* mask, float* dst, int64_t batch, int64_t steps, int64_t n,
                bool accumulate) {
    const unsigned denormals = DenormalsMode::current();  // a GRU's recurrence flushes them
#pragma omp parallel for if (rows_worth_threads(batch * steps * n)) schedule(static)
    for (int64_t b = 0; b < batch; ++b) {
        const DenormalsMode mode(denormals);  // every thread as the caller
        const float* m = mask + b * n;
        for (int64_t t = 0; t < steps; ++t) {
            const float* sr = src + (b * steps + t) * n;
            float* dr = dst + (b * steps + t) * n;
            if (accumulate) {
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) dr[j] += sr[j] * m[j];
            } else {
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) dr[j] = sr[j] * m[j];
            }
        }
    }
}

}  // namespace

Scratch carve(float* scratch, const RnnDims& d) {
    const int64_t bt = d.batch * d.steps, bu = d.batch * d.units;
    Scratch s;
    s.xm = scratch;
    s.xtmp = s.xm + bt * d.input;
    s.hprev = s.xtmp + bt * d.input;
    s.hm = s.hprev + bt * d.units;
    s.hstate = s.hm + bt * d.units;
    s.dh = s.hstate + bt * d.units;
    s.dh2 = s.dh + bu;
    s.dc = s.dh2 + bu;
    s.dout = s.dc + bu;
    s.rtmp = s.dout + bu;
    s.cell = s.rtmp + bu;
    s.ut = s.cell + 8 * bu;
    return s;
}

int64_t scratch_floats(const RnnDims& d, int64_t G) {
    const int64_t bt = d.batch * d.steps, bu = d.batch * d.units;
    // U^T, or U / U^T in panels of at most 64 columns, the last padded (rnn_common.h: Scratch::ut)
    return 2 * bt * d.input + 3 * bt * d.units + 13 * bu + G * d.units * (d.units + 64);
}

void input_projection(const float* x, const float* w, const float* b, const float* in_mask, float* gx,
                      const Scratch& s, const RnnDims& d, int64_t G, const Rows& r) {
    if (!x) return;  // the caller projected the inputs: gx holds them already (seqnet/rnn.h)
    const int64_t nb = r.count(d), rows = nb * d.steps, u = d.units, n = G * u, in = d.input;
    x += r.b0 * d.steps * in;
    gx += r.b0 * d.steps * n;
    GemmEpilogue ep;
    if (!in_mask) {
        ep.bias = b;
        sgemm(false, false, rows, n, in, 1.0f, x, in, w, n, 0.0f, gx, n, b ? &ep : nullptr);
        return;
    }
    float* xm = s.xm + r.b0 * d.steps * in;
    for (int64_t g = 0; g < G; ++g) {
        scale_rows(x, in_mask + (g * d.batch + r.b0) * in, xm, nb, d.steps, in, false);
        ep.bias = b ? b + g * u : nullptr;
        sgemm(false, false, rows, u, in, 1.0f, xm, in, w + g * u, n, 0.0f, gx + g * u, n, b ? &ep : nullptr);
    }
}

void pack_gate_panels(const float* u, const Scratch& s, const RnnDims& d, int64_t G, bool transposed) {
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const int pw = int(gemm::panel_width(uk));
    const int64_t un = d.units;
    for (int64_t g = 0; g < G; ++g)
        gemm::pack_b(transposed, u + g * un, G * un, un, un, pw, gate_panels(s, d, g));
}

float* gate_panels(const Scratch& s, const RnnDims& d, int64_t g) {
    // ceil(units / pw) panels of pw columns by units rows each: G of them fit Scratch::ut's
    // G*units*(units + 64) floats, panels being at most 64 wide
    const int64_t pw = gemm::panel_width(gemm::microkernel_for(active_isa()));
    return s.ut + g * ((d.units + pw - 1) / pw * pw) * d.units;
}

void recurrent_product(const float* h, int64_t ldh, const float* rec_mask, float* gx_t, int64_t ldg,
                       const Scratch& s, const RnnDims& d, int64_t lo, int64_t hi, const Rows& r) {
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const int64_t un = d.units, nb = r.count(d);
    h += r.b0 * ldh;
    gx_t += r.b0 * ldg;
    float* tmp = s.rtmp + r.b0 * un;
    for (int64_t g = lo; g < hi; ++g) {
        const float* m = rec_mask + (g * d.batch + r.b0) * un;
        for (int64_t b = 0; b < nb; ++b) {
            const float* hr = h + b * ldh;
            float* tr = tmp + b * un;
#pragma omp simd
            for (int64_t j = 0; j < un; ++j) tr[j] = hr[j] * m[b * un + j];
        }
        gemm::panel_update(uk, nb, un, un, tmp, un, gate_panels(s, d, g), gx_t + (g - lo) * un, ldg);
    }
}

void recurrent_product_backward(const float* dg_t, int64_t ldg, const float* rec_mask, float* dh,
                                const Scratch& s, const RnnDims& d, int64_t lo, int64_t hi, const Rows& r) {
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const int64_t un = d.units, nb = r.count(d);
    dg_t += r.b0 * ldg;
    dh += r.b0 * un;
    float* tmp = s.rtmp + r.b0 * un;
    for (int64_t g = lo; g < hi; ++g) {
        std::memset(tmp, 0, sizeof(float) * nb * un);
        gemm::panel_update(uk, nb, un, un, dg_t + (g - lo) * un, ldg, gate_panels(s, d, g), tmp, un);
        scale_rows(tmp, rec_mask + (g * d.batch + r.b0) * un, dh, nb, 1, un, true);
    }
}

void recurrent_weight_grad(const float* src, const float* rec_mask, const float* dgx, int64_t ldg, float* du,
                           const Scratch& s, const RnnDims& d, int64_t G, int64_t lo, int64_t hi) {
    const int64_t rows = d.batch * d.steps, un = d.units, n = G * un;
    if (!rec_mask) {
        sgemm(true, false, un, (hi - lo) * un, rows, 1.0f, src, un, dgx, ldg, 0.0f, du + lo * un, n);
        return;
    }
    for (int64_t g = lo; g < hi; ++g) {
        scale_rows(src, rec_mask + g * d.batch * un, s.hm, d.batch, d.steps, un, false);
        sgemm(true, false, un, un, rows, 1.0f, s.hm, un, dgx + (g - lo) * un, ldg, 0.0f, du + g * un, n);
    }
}

void input_backward(const float* x, const float* w, const float* in_mask, const float* dgx, float* dw,
                    float* db, float* dx, const Scratch& s, const RnnDims& d, int64_t G) {
    input_weight_grad(x, in_mask, dgx, dw, db, s, d, G);
    if (dx) input_grad(w, in_mask, dgx, dx, s, d, G);
}

void input_weight_grad(const float* x, const float* in_mask, const float* dgx, float* dw, float* db,
                       const Scratch& s, const RnnDims& d, int64_t G) {
    const int64_t rows = d.batch * d.steps, u = d.units, n = G * u, in = d.input;
    if (db) column_sums(dgx, n, db, rows, n);
    if (!dw) return;  // the caller computes dW (seqnet/rnn.h)
    if (!in_mask) {
        sgemm(true, false, in, n, rows, 1.0f, x, in, dgx, n, 0.0f, dw, n);
        return;
    }
    for (int64_t g = 0; g < G; ++g) {
        scale_rows(x, in_mask + g * d.batch * in, s.xm, d.batch, d.steps, in, false);
        sgemm(true, false, in, u, rows, 1.0f, s.xm, in, dgx + g * u, n, 0.0f, dw + g * u, n);
    }
}

void input_grad(const float* w, const float* in_mask, const float* dgx, float* dx, const Scratch& s,
                const RnnDims& d, int64_t G, const Rows& r) {
    const int64_t nb = r.count(d), rows = nb * d.steps, u = d.units, n = G * u, in = d.input;
    dgx += r.b0 * d.steps * n;
    dx += r.b0 * d.steps * in;
    if (!in_mask) {
        sgemm(false, true, rows, in, n, 1.0f, dgx, n, w, n, 0.0f, dx, in);
        return;
    }
    float* xtmp = s.xtmp + r.b0 * d.steps * in;
    for (int64_t g = 0; g < G; ++g) {
        sgemm(false, true, rows, in, u, 1.0f, dgx + g * u, n, w + g * u, n, 0.0f, xtmp, in);
        scale_rows(xtmp, in_mask + (g * d.batch + r.b0) * in, dx, nb, d.steps, in, g > 0);
    }
}

void gather_hprev(const float* h0, const float* hs, const uint8_t* mask, float* hprev, const RnnDims& d,
                  bool back, const Rows& r) {
    const int64_t u = d.units, b0 = r.b0, b1 = r.b0 + r.count(d);
#pragma omp parallel for if (r.n < 0 && rows_worth_threads(d.batch * d.steps * u)) schedule(static)
    for (int64_t b = b0; b < b1; ++b) {
        bool seen = false;  // a step before s was kept, so the output of s-1 is the carried state
        for (int64_t s = 0; s < d.steps; ++s) {
            const int64_t t = time_of(s, d, back);
            const float* src = seen ? hs + (b * d.steps + s - 1) * u : h0 + b * u;
            std::memcpy(hprev + (b * d.steps + t) * u, src, sizeof(float) * u);
            seen = seen || kept(mask, b, t, d);
        }
    }
}

void finish_step(const uint8_t* mask, int64_t step, int64_t t, int64_t b, const float* h0, const float* c0,
                 float* hst, float* cs, float* hs, const RnnDims& d) {
    if (!mask) return;
    const int64_t u = d.units, row = (b * d.steps + step) * u;
    if (mask[b * d.steps + t]) {
        std::memcpy(hs + row, hst + row, sizeof(float) * u);
        return;
    }
    std::memcpy(hst + row, state_row(h0, hst, step, b, d), sizeof(float) * u);
    if (cs) std::memcpy(cs + row, state_row(c0, cs, step, b, d), sizeof(float) * u);
    if (step == 0)
        std::memset(hs + row, 0, sizeof(float) * u);
    else
        std::memcpy(hs + row, hs + row - u, sizeof(float) * u);
}

bool take_step_grad(const float* dhs, const uint8_t* mask, int64_t step, int64_t t, int64_t b, float* dh,
                    float* dout, const RnnDims& d) {
    const int64_t u = d.units;
    const float* src = dhs ? dhs + (b * d.steps + step) * u : nullptr;
    float* dhr = dh + b * u;
    if (!mask) {
        if (src)
#pragma omp simd
            for (int64_t j = 0; j < u; ++j) dhr[j] += src[j];
        return true;
    }
    float* dor = dout + b * u;
    if (!mask[b * d.steps + t]) {
        // the output of a skipped step is the previous step's output
        if (src)
#pragma omp simd
            for (int64_t j = 0; j < u; ++j) dor[j] += src[j];
        return false;
    }
    if (src) {
#pragma omp simd
        for (int64_t j = 0; j < u; ++j) dhr[j] += src[j] + dor[j];
    } else {
#pragma omp simd
        for (int64_t j = 0; j < u; ++j) dhr[j] += dor[j];
    }
    std::memset(dor, 0, sizeof(float) * u);
    return true;
}

void copy_last_step(const float* hst, float* h_last, const RnnDims& d, const Rows& r) {
    if (!h_last) return;
    const int64_t u = d.units, end = r.b0 + r.count(d);
    for (int64_t b = r.b0; b < end; ++b)
        std::memcpy(h_last + b * u, hst + (b * d.steps + d.steps - 1) * u, sizeof(float) * u);
}

namespace {

// Relative speed of thread i of the recurrences (mean 1), as the split uses it.
std::atomic<float> g_thread_speed[RegionWatch::kMaxThreads] = {1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f};

}  // namespace

}  // namespace rnn_detail

std::vector<float> rnn_thread_speeds() {
    std::vector<float> v;
    for (const auto& s : rnn_detail::g_thread_speed) v.push_back(s.load(std::memory_order_relaxed));
    return v;
}

void set_rnn_thread_speeds(const std::vector<float>& speeds) {
    for (size_t i = 0; i < speeds.size() && i < size_t(rnn_detail::RegionWatch::kMaxThreads); ++i)
        rnn_detail::g_thread_speed[i].store(speeds[i], std::memory_order_relaxed);
}

namespace rnn_detail {

RegionWatch::RegionWatch(int threads, const RnnDims& d)
    : threads_(threads), batch_(d.batch), start_(threads > 1 ? now_ns() : 0) {
    for (int j = 0; j < 2; ++j) {
        first_[j].store(INT64_MAX, std::memory_order_relaxed);
        last_[j].store(0, std::memory_order_relaxed);
    }
    if (threads <= 1 || threads > kMaxThreads) return;  // more threads: an equal split (begin)
    // Rows in proportion to the threads' speeds, each at least half an equal share.
    double total = 0, speed[kMaxThreads];
    for (int i = 0; i < threads; ++i) total += speed[i] = g_thread_speed[i].load(std::memory_order_relaxed);
    const int64_t min_rows = std::max<int64_t>(1, d.batch / (2 * threads));
    int64_t b0 = 0;
    double cum = 0;
    for (int i = 0; i < threads; ++i) {
        cum += speed[i];
        int64_t end = i == threads - 1 ? d.batch : int64_t(d.batch * cum / total + 0.5);
        end = std::clamp(end, b0 + min_rows, d.batch - min_rows * (threads - 1 - i));
        rows_[i] = Rows{b0, end - b0};
        b0 = end;
    }
}

Rows RegionWatch::begin(int i) {
    if (threads_ <= 1) return Rows();
    if (threads_ > kMaxThreads) {  // equal contiguous shares, sizes differing by at most one
        const int64_t base = batch_ / threads_, extra = batch_ % threads_;
        return Rows{i * base + std::min<int64_t>(i, extra), base + (i < extra ? 1 : 0)};
    }
    cpu_ns_[i] = thread_cpu_ns();
    return rows_[i];
}

void RegionWatch::loop_done(int i) {
    if (threads_ <= 1 || threads_ > kMaxThreads) return;
    loop_ns_[i] = now_ns() - start_;
    const int64_t cpu = thread_cpu_ns();
    cpu_ns_[i] = cpu >= 0 && cpu_ns_[i] >= 0 ? cpu - cpu_ns_[i] : -1;
}

void RegionWatch::arrive(int j) {
    if (threads_ <= 1) return;
    const int64_t t = now_ns();
    int64_t v = first_[j].load(std::memory_order_relaxed);
    while (t < v && !first_[j].compare_exchange_weak(v, t, std::memory_order_relaxed)) {
    }
    v = last_[j].load(std::memory_order_relaxed);
    while (t > v && !last_[j].compare_exchange_weak(v, t, std::memory_order_relaxed)) {
    }
}

void RegionWatch::close() {
    if (threads_ <= 1) return;
    if (threads_ <= kMaxThreads) {
        // Rows per second of each thread's loop, normalised to mean 1, blended into the
        // remembered speeds (a call slowed by a one-off stall moves them only part way).
        double rate[kMaxThreads], mean = 0;
        bool all = true;
        for (int i = 0; i < threads_; ++i) {
            all = all && loop_ns_[i] > 0 && rows_[i].n > 0;
            rate[i] = all ? double(rows_[i].n) / double(loop_ns_[i]) : 0;
            mean += rate[i] / threads_;
        }
        for (int i = 0; i < threads_ && all; ++i) {
            const float old = g_thread_speed[i].load(std::memory_order_relaxed);
            const float now = float(std::clamp(rate[i] / mean, 0.25, 4.0));
            g_thread_speed[i].store(0.7f * old + 0.3f * now, std::memory_order_relaxed);
        }
    }
    int64_t waited = 0;
    for (int j = 0; j < 2; ++j) {
        const int64_t f = first_[j].load(std::memory_order_relaxed), l = last_[j].load(std::memory_order_relaxed);
        if (l >= f) waited += l - f;
    }
    // The straggler's loop: when it ran on the CPU nearly all along, its core was only
    // slower (the next split makes up for it), not taken by another process.
    const int64_t elapsed = now_ns() - start_;
    int slowest = 0;
    for (int i = 1; i < std::min(threads_, kMaxThreads); ++i)
        if (loop_ns_[i] > loop_ns_[slowest]) slowest = i;
    const bool ran_throughout = threads_ <= kMaxThreads && loop_ns_[slowest] > 0 && cpu_ns_[slowest] >= 0 &&
                                10 * cpu_ns_[slowest] >= 9 * loop_ns_[slowest];
    note_parallel_run(waited, elapsed, ran_throughout ? elapsed : elapsed / 5);
}

int recurrence_threads(const RnnDims& d, int64_t G) {
    // One parallel region per call, each thread on its own batch rows through the whole
    // sequence (and, backward, on its own columns of the weight gradients), so a fork costs
    // a few microseconds per call, not per step. Below about a million multiply-adds of
    // projections and recurrent products one thread is as fast; each thread keeps at least
    // 4 rows so that its per-step products still fill a microkernel.
    const int64_t macs = d.batch * d.steps * G * d.units * (d.units + d.input);
    if (macs < (int64_t(1) << 20) || omp_in_parallel() || contended_recently()) return 1;
    const int64_t by_rows = d.batch / 4;
    return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), by_rows)));
}

Cols thread_cols(int64_t cols, int i, int threads) {
    const int64_t vecs = (cols + 15) / 16, base = vecs / threads, extra = vecs % threads;
    Cols c;
    c.j0 = std::min(cols, 16 * (i * base + std::min<int64_t>(i, extra)));
    c.n = std::min(cols, c.j0 + 16 * (base + (i < extra ? 1 : 0))) - c.j0;
    return c;
}

void weight_grads(const float* x, const float* hprev, const float* dgx, float* dw, float* du, float* db,
                  const RnnDims& d, int64_t G, const Cols& c) {
    const int64_t rows = d.batch * d.steps, n = G * d.units;
    if (c.n <= 0) return;
    if (db) column_sums(dgx + c.j0, n, db + c.j0, rows, c.n);
    if (!dw) {  // dW is the caller's (seqnet/rnn.h)
        sgemm(true, false, d.units, c.n, rows, 1.0f, hprev, d.units, dgx + c.j0, n, 0.0f, du + c.j0, n);
        return;
    }
    // dU = H^T dG and dW = X^T dG share dG: one call packs it once and, on the AMX path,
    // counts their rows together.
    const int64_t m[2] = {d.units, d.input}, lda[2] = {d.units, d.input}, ldc[2] = {n, n};
    const float* a[2] = {hprev, x};
    float* c_out[2] = {du + c.j0, dw + c.j0};
    sgemm_stacked(true, false, 2, m, c.n, rows, 1.0f, a, lda, dgx + c.j0, n, 0.0f, c_out, ldc);
}


void copy_or_zero(const float* src, float* dst, int64_t n) {
    if (src)
        std::memcpy(dst, src, sizeof(float) * n);
    else
        std::memset(dst, 0, sizeof(float) * n);
}

}  // namespace rnn_detail
}  // namespace seqnet
