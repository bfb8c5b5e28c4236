// TANDEM_VECTOR_CLONES: on x86-64 with GCC, a hot loop marked with it is
// also compiled for x86-64-v3 (AVX2) and picked at load time; the library
// itself targets baseline x86-64. tandem_strategies is built with
// -ffp-contract=off, so both give the same bits. Not under ThreadSanitizer:
// the clones' resolver runs at load time, before its runtime is up, and
// crashes the program. For the library's .cc files only.
#ifndef TANDEM_STRATEGIES_VECTOR_CLONES_H_
#define TANDEM_STRATEGIES_VECTOR_CLONES_H_

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define TANDEM_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define TANDEM_VECTOR_CLONES
#endif

#endif  // TANDEM_STRATEGIES_VECTOR_CLONES_H_
