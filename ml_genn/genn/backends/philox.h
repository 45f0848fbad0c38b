// Philox4x32-10 counter-based random numbers, shared by the C++ and CUDA
// backends so that one seed gives the same numbers on both.
//
// A stream is keyed by (seed, stream id, element, step): nothing is stored
// between steps, so results do not depend on how work is split over threads.
// MG_HD is defined by the backend ("" for C++, "__host__ __device__" for CUDA).
#ifndef MG_PHILOX_H
#define MG_PHILOX_H

struct mg_rng {
    uint32_t ctr[4];
    uint32_t key[2];
    uint32_t buf[4];
    uint32_t pos;
};

MG_HD static inline void mg_philox_round(uint32_t *c, const uint32_t *k) {
    const uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
    const uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    const uint32_t n0 = hi1 ^ c[1] ^ k[0];
    const uint32_t n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
}

MG_HD static inline void mg_philox4x32_10(const uint32_t *ctr, const uint32_t *key, uint32_t *out) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        mg_philox_round(c, k);
        k[0] += 0x9E3779B9u;
        k[1] += 0xBB67AE85u;
    }
    out[0] = c[0]; out[1] = c[1]; out[2] = c[2]; out[3] = c[3];
}

// element: neuron/synapse/row index (batch folded in); stream: which group
// and purpose; step: simulation step (or 0 for initialisation).
MG_HD static inline void mg_rng_init(mg_rng *r, uint64_t seed, uint32_t stream,
                                     uint32_t element, uint64_t step) {
    r->ctr[0] = element;
    r->ctr[1] = stream;
    r->ctr[2] = (uint32_t)step;
    r->ctr[3] = 0;
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32) + (uint32_t)(step >> 32);
    r->pos = 4;
}

MG_HD static inline uint32_t mg_rand_u32(mg_rng *r) {
    if (r->pos == 4) {
        mg_philox4x32_10(r->ctr, r->key, r->buf);
        r->ctr[3]++;
        r->pos = 0;
    }
    return r->buf[r->pos++];
}

// Uniform on (0, 1]: never 0, so log() is always finite.
MG_HD static inline float mg_uniform_f(mg_rng *r) {
    return (float)((mg_rand_u32(r) >> 8) + 1u) * 5.9604644775390625e-08f;
}
MG_HD static inline double mg_uniform_d(mg_rng *r) {
    const uint64_t hi = mg_rand_u32(r) >> 5, lo = mg_rand_u32(r) >> 6;
    return (double)((hi << 26) + lo + 1u) * 1.1102230246251565e-16;
}

// Box-Muller, one value per call.
MG_HD static inline float mg_normal_f(mg_rng *r) {
    const float u1 = mg_uniform_f(r), u2 = mg_uniform_f(r);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795865f * u2);
}
MG_HD static inline double mg_normal_d(mg_rng *r) {
    const double u1 = mg_uniform_d(r), u2 = mg_uniform_d(r);
    return sqrt(-2.0 * log(u1)) * cos(6.2831853071795865 * u2);
}

MG_HD static inline float mg_exponential_f(mg_rng *r) { return -logf(mg_uniform_f(r)); }
MG_HD static inline double mg_exponential_d(mg_rng *r) { return -log(mg_uniform_d(r)); }

MG_HD static inline float mg_log_normal_f(mg_rng *r, float m, float s) {
    return expf(m + s * mg_normal_f(r));
}
MG_HD static inline double mg_log_normal_d(mg_rng *r, double m, double s) {
    return exp(m + s * mg_normal_d(r));
}

// Marsaglia & Tsang (2000); shape a < 1 boosted by U^(1/a).
MG_HD static inline double mg_gamma_d(mg_rng *r, double a) {
    double boost = 1.0;
    if (a < 1.0) {
        boost = pow(mg_uniform_d(r), 1.0 / a);
        a += 1.0;
    }
    const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    while (true) {
        double x, v;
        do {
            x = mg_normal_d(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        const double u = mg_uniform_d(r);
        if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * boost;
        if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v * boost;
    }
}
MG_HD static inline float mg_gamma_f(mg_rng *r, float a) { return (float)mg_gamma_d(r, a); }

// Binomial(n, p) by inversion: a sequential search from 0 over the
// smaller of p and 1 - p.  Exact; the loop runs about n * min(p, 1 - p)
// times.  Only called with n <= 64, so (1 - q)^n >= 2^-64 never underflows.
MG_HD static inline unsigned int mg_binomial_inversion(mg_rng *r, unsigned int n, double p) {
    if (p <= 0.0 || n == 0) return 0;
    if (p >= 1.0) return n;
    const bool flip = p > 0.5;
    const double q = flip ? 1.0 - p : p;
    const double s = q / (1.0 - q);
    double f = pow(1.0 - q, (double)n);
    double u = mg_uniform_d(r);
    unsigned int x = 0;
    while (u > f && x < n) {
        u -= f;
        f *= s * (double)(n - x) / (double)(x + 1);
        x++;
    }
    return flip ? n - x : x;
}

// Binomial(n, p), exact for every n (Knuth, TAOCP vol. 2, 3.4.1): the a-th
// smallest of n uniforms, X ~ Beta(a, n + 1 - a) (from two gamma draws), splits
// the trials: if X >= p the successes are among the a - 1 smaller uniforms,
// Binomial(a - 1, p / X); otherwise all a are successes, plus
// Binomial(n - a, (p - X) / (1 - X)) among the larger ones.  Halving n each
// round until n <= 64, then inversion: O(log n) work for any n and p.
MG_HD static inline unsigned int mg_binomial(mg_rng *r, unsigned int n, double p) {
    if (!(p > 0.0) || n == 0) return 0;     // also p = NaN
    if (p >= 1.0) return n;
    unsigned int k = 0;
    while (n > 64u) {
        const unsigned int a = 1u + n / 2u, b = n + 1u - a;
        const double ga = mg_gamma_d(r, (double)a), gb = mg_gamma_d(r, (double)b);
        const double x = ga / (ga + gb);
        if (x >= p) {
            n = a - 1u;
            p = p / x;
        }
        else {
            k += a;
            n = b - 1u;
            p = (p - x) / (1.0 - x);
        }
    }
    return k + mg_binomial_inversion(r, n, p);
}

#endif
