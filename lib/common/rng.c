/* rng.c — see rng.h. */
#include "rng.h"

#include <math.h>
#include <string.h>

#include "util.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t xf_hash64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    uint64_t x = seed * 0xD1342543DE82EF95ull + stream;
    uint64_t a = splitmix64(&x);
    x = a ^ (counter * 0x9E3779B97F4A7C15ull);
    return splitmix64(&x);
}

float xf_hash_uniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
    return (float)(xf_hash64(seed, stream, counter) >> 40) * (1.0f / 16777216.0f);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void xf_rng_seed(xf_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xA0761D6478BD642Full);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

uint64_t xf_rng_u64(xf_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t xf_rng_below(xf_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = xf_rng_u64(r); while (v >= limit);
    return v % n;
}

double xf_rng_double(xf_rng *r) { return (xf_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

double xf_rng_normal(xf_rng *r)
{
    double u1 = xf_rng_double(r), u2 = xf_rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void xf_rng_shuffle(xf_rng *r, void *base, size_t n, size_t size)
{
    unsigned char *b = base, tmp[256];
    if (size > sizeof tmp) die("xf_rng_shuffle: element of %zu bytes is too large", size);
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)xf_rng_below(r, i);
        if (j == i - 1) continue;
        memcpy(tmp, b + (i - 1) * size, size);
        memcpy(b + (i - 1) * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}
