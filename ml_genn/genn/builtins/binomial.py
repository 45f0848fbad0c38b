"""Binomial inverse CDF used to size padded sparse rows (no SciPy needed)."""
from math import exp, lgamma, log, log1p


def binomial_inverse_cdf(quantile, n, p):
    """Smallest k with P(X <= k) >= quantile for X ~ Binomial(n, p)."""
    n = int(n)
    if p <= 0.0 or n == 0:
        return 0
    if p >= 1.0:
        return n
    log_p, log_q = log(p), log1p(-p)
    log_nfact = lgamma(n + 1)
    cdf = 0.0
    for k in range(n + 1):
        cdf += exp(log_nfact - lgamma(k + 1) - lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        if cdf >= quantile:
            return k
    return n
