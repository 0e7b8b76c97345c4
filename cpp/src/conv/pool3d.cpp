// 3-D pooling as the 2-D kernels of pool.cpp applied twice (see pool3d.h for why the passes
// compose exactly); each pass is deterministic, so the whole is too.
#include "seqnet/pool3d.h"

namespace seqnet {

void max_pool3d_forward(const Pool3dShape& s, const float* x, float* mid, int32_t* mid_argmax, float* y,
                        int32_t* argmax) {
    max_pool_forward(s.plane(), x, mid, mid_argmax);
    max_pool_forward(s.depth(), mid, y, argmax);
}

void max_pool3d_backward(const Pool3dShape& s, const float* dy, const int32_t* argmax, const int32_t* mid_argmax,
                         float* dmid, float* dx) {
    max_pool_backward(s.depth(), dy, argmax, dmid);
    max_pool_backward(s.plane(), dmid, mid_argmax, dx);
}

void avg_pool3d_forward(const Pool3dShape& s, const float* x, float* mid, float* y) {
    avg_pool_forward(s.plane(), x, mid);
    avg_pool_forward(s.depth(), mid, y);
}

void avg_pool3d_backward(const Pool3dShape& s, const float* dy, float* dmid, float* dx) {
    avg_pool_backward(s.depth(), dy, dmid);
    avg_pool_backward(s.plane(), dmid, dx);
}

}  // namespace seqnet
