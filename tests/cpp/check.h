// The C++ tests' checks: CHECK(cond, printf-style message) counts and prints a failure and goes
// on; finish(name) prints the verdict and gives the exit status (0 when everything passed).
#pragma once
#include <cstdio>

namespace test_check {
inline int failures = 0;

inline int finish(const char* name) {
    std::printf("%s: %s\n", name, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
}  // namespace test_check

#define CHECK(cond, ...)                                     \
    do {                                                     \
        if (!(cond)) {                                       \
            ++test_check::failures;                          \
            std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            std::printf(__VA_ARGS__);                        \
            std::printf("\n");                               \
        }                                                    \
    } while (0)
