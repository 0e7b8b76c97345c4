#include "seqnet/runtime.h"

#include <omp.h>

namespace seqnet {

void set_num_threads(int n) { omp_set_num_threads(n < 1 ? 1 : n); }

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace seqnet
