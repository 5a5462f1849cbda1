/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpu.shares <-> cpu.weight (berth/cpu_weight.h). Pure functions without
 * libm (the libraries do not link it). */
#include "berth/cpu_weight.h"

/* log2(x) for x >= 1: the integer part by halving (exact for doubles),
 * the fraction bit by bit by repeated squaring of the mantissa. */
static double log2_approx(double x)
{
        int k = 0;
        while (x >= 2.0) {
                x /= 2.0;
                k++;
        }
        double frac = 0, bit = 0.5;
        for (int i = 0; i < 48; i++, bit /= 2) {
                x *= x;
                if (x >= 2.0) {
                        x /= 2.0;
                        frac += bit;
                }
        }
        return k + frac;
}

/* 10^e for 0 <= e <= 4: integer power times exp(frac * ln 10) by series. */
static double pow10_small(double e)
{
        int ip = (int)e;
        double y = (e - ip) * 2.302585092994045684, term = 1, sum = 1;
        for (int i = 1; i < 40; i++) {
                term *= y / i;
                sum += term;
        }
        for (int i = 0; i < ip; i++)
                sum *= 10;
        return sum;
}

/* The curve's exponent: weight = 10^e(shares), rounded up, with
 * l = log2(shares), e = (l^2 + 125 l) / 612 - 7/34. (The old linear
 * formula gave 39 for 1024, quietly starving containers next to
 * unconfigured services.) */
static double curve_exponent(uint64_t shares)
{
        double l = log2_approx((double)shares);
        return (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

uint64_t berth_cpu_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        double e = curve_exponent(clamp(shares, 2, 262144));
        double w = pow10_small(e < 0 ? 0 : e);
        /* Round up, but not past an exact integer that the series hit
         * a hair above. */
        uint64_t iw = (uint64_t)w;
        if (w - (double)iw > 1e-6)
                iw++;
        return clamp(iw, 1, 10000);
}

/* The curve is monotonic: a bisection on the exponent, e(s) <= log10(w). */
uint64_t berth_cpu_weight_to_shares(uint64_t weight)
{
        if (weight <= 1)
                return 2;
        if (weight >= 10000)
                return 262144;
        /* shares_to_weight rounds up past 1e-6 above an integer: stay below that. */
        double target = log2_approx((double)weight + 5e-7) * 0.30102999566398120;
        uint64_t lo = 2, hi = 262145; /* first s with e(s) above the target */
        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                if (curve_exponent(mid) > target)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return lo - 1;
}
