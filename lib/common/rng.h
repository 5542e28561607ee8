/* rng.h — deterministic random numbers.
 *
 * Reproducibility at any thread count needs randomness that does not depend
 * on which thread draws it: every random decision is a pure function of
 * (seed, stream, counter).  xf_hash64 is a counter-based generator
 * (splitmix64 finaliser over the mixed triple); xf_rng is a small sequential
 * generator (xoshiro256**) for single-threaded uses such as shuffles.
 * Streams in use: see the XF_STREAM_* constants, so two uses of one seed
 * never collide.
 */
#ifndef XF_RNG_H
#define XF_RNG_H

#include <stdint.h>
#include <stddef.h>

enum {
    XF_STREAM_SHUFFLE = 1,   /* data order */
    XF_STREAM_MASK = 2,      /* MLM masking */
    XF_STREAM_DROPOUT = 3,   /* dropout masks */
    XF_STREAM_INIT = 4,      /* parameter initialisation */
    XF_STREAM_BOOT = 5,      /* bootstrap resampling */
};

uint64_t xf_hash64(uint64_t seed, uint64_t stream, uint64_t counter);
/* Uniform float in [0,1) with 24 random bits, from xf_hash64. */
float xf_hash_uniform(uint64_t seed, uint64_t stream, uint64_t counter);

typedef struct { uint64_t s[4]; } xf_rng;
void xf_rng_seed(xf_rng *r, uint64_t seed, uint64_t stream);
uint64_t xf_rng_u64(xf_rng *r);
/* Uniform in [0, n) without modulo bias. */
uint64_t xf_rng_below(xf_rng *r, uint64_t n);
/* Uniform in [0,1). */
double xf_rng_double(xf_rng *r);
/* Standard normal (Box–Muller, deterministic). */
double xf_rng_normal(xf_rng *r);
/* Fisher–Yates shuffle of N indices / of N elements of SIZE bytes. */
void xf_rng_shuffle(xf_rng *r, void *base, size_t n, size_t size);

#endif
