/*
 * units.c - strict value parsing and canonical printing (rules in units.h).
 *
 * Numbers with units are parsed as exact decimals (a 128-bit mantissa and a
 * count of fraction digits), scaled by the unit as an integer, and divided
 * once at the end; so "1.6GB/s" is exactly 12.8e9 bit/s, with no binary
 * floating-point error to round away. 24 significant digits times the largest
 * unit multiplier (2^50 or 8e12) stays below 2^128.
 */
#include "engine/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/clock.h"
#include "engine/error.h"
#include "engine/tick.h"

typedef unsigned __int128 u128;

#define DEC_MAX_DIGITS 24

struct dec {
    u128 mant;              /* the digits, without the decimal point */
    unsigned frac;          /* digits after the point: value = mant / 10^frac */
};

struct unit {
    const char *name;
    uint64_t mult;          /* base units per one of this unit */
};

static u128 pow10_u128(unsigned n)
{
    u128 v = 1;

    while (n--)
        v *= 10;
    return v;
}

/*
 * Parse "digits[.digits]" at *pp; on success *pp points after the number.
 * Leading zeros and trailing fraction zeros do not count as significant.
 */
static int dec_parse(const char **pp, struct dec *d)
{
    const char *p = *pp;
    unsigned sig = 0, pending_zeros = 0;

    d->mant = 0;
    d->frac = 0;
    if (*p == '-')
        return SIM_ERANGE;              /* negative where only >= 0 makes sense */
    if (!isdigit((unsigned char)*p))
        return SIM_EPARSE;
    while (isdigit((unsigned char)*p)) {
        if (d->mant || *p != '0')
            sig++;
        if (sig > DEC_MAX_DIGITS)
            return SIM_EOVERFLOW;
        d->mant = d->mant * 10 + (unsigned)(*p++ - '0');
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return SIM_EPARSE;          /* "80.ns" */
        while (isdigit((unsigned char)*p)) {
            /* Trailing zeros are kept pending so "1.500000" costs nothing. */
            if (*p == '0') {
                pending_zeros++;
                p++;
                continue;
            }
            while (pending_zeros) {
                if (d->mant)
                    sig++;
                d->mant *= 10;
                d->frac++;
                pending_zeros--;
                if (sig > DEC_MAX_DIGITS)
                    return SIM_ERANGE;  /* more precision than we carry */
            }
            sig++;
            if (sig > DEC_MAX_DIGITS)
                return SIM_ERANGE;
            d->mant = d->mant * 10 + (unsigned)(*p++ - '0');
            d->frac++;
        }
    }
    *pp = p;
    return 0;
}

enum dec_round { ROUND_EXACT, ROUND_NEAREST };

/* value * mult, divided by 10^frac with the given rounding, checked <= max. */
static int dec_scale(const struct dec *d, uint64_t mult, enum dec_round mode,
                     uint64_t max, uint64_t *out)
{
    u128 num = d->mant * mult;          /* < 10^24 * 2^50 < 2^128 */
    u128 den = pow10_u128(d->frac);
    u128 q = num / den, r = num % den;

    if (r) {
        if (mode == ROUND_EXACT)
            return SIM_ERANGE;
        if (r * 2 >= den)
            q++;
    }
    if (q > max)
        return SIM_EOVERFLOW;
    *out = (uint64_t)q;
    return 0;
}

/* Number, at most one space, unit from the table. */
static int parse_with_unit(const char *text, const struct unit *units, size_t n,
                           enum dec_round mode, uint64_t max, uint64_t *out,
                           size_t *which)
{
    const char *p = text;
    struct dec d;
    int err;

    if (!text)
        return SIM_EPARSE;
    err = dec_parse(&p, &d);
    if (err)
        return err;
    if (*p == ' ')
        p++;
    if (*p == '\0')
        return SIM_EUNIT;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p, units[i].name) == 0) {
            if (which)
                *which = i;
            return dec_scale(&d, units[i].mult, mode, max, out);
        }
    }
    /* "80 ns " or "80  ns": a malformed tail, not an unknown unit. */
    if (*p == ' ' || p[strlen(p) - 1] == ' ')
        return SIM_EPARSE;
    return SIM_EUNIT;
}

#define NUNITS(a) (sizeof(a) / sizeof((a)[0]))

static const struct unit size_units[] = {
    { "B", 1 },
    { "KiB", UINT64_C(1) << 10 }, { "MiB", UINT64_C(1) << 20 },
    { "GiB", UINT64_C(1) << 30 }, { "TiB", UINT64_C(1) << 40 },
    { "PiB", UINT64_C(1) << 50 },
    { "kB", UINT64_C(1000) }, { "MB", UINT64_C(1000000) },
    { "GB", UINT64_C(1000000000) }, { "TB", UINT64_C(1000000000000) },
};

static const struct unit time_units[] = {
    { "ps", 1 }, { "ns", SIM_TICKS_PER_NS }, { "us", SIM_TICKS_PER_US },
    { "ms", SIM_TICKS_PER_MS }, { "s", SIM_TICKS_PER_S },
    { "cycles", 1 }, { "cycle", 1 },    /* index >= 5: cycles */
};
#define TIME_FIRST_CYCLE_UNIT 5

static const struct unit bw_units[] = {
    { "bps", 1 }, { "kbps", UINT64_C(1000) }, { "Mbps", UINT64_C(1000000) },
    { "Gbps", UINT64_C(1000000000) }, { "Tbps", UINT64_C(1000000000000) },
    { "B/s", 8 }, { "kB/s", UINT64_C(8000) }, { "MB/s", UINT64_C(8000000) },
    { "GB/s", UINT64_C(8000000000) }, { "TB/s", UINT64_C(8000000000000) },
    { "KiB/s", UINT64_C(8) << 10 }, { "MiB/s", UINT64_C(8) << 20 },
    { "GiB/s", UINT64_C(8) << 30 }, { "TiB/s", UINT64_C(8) << 40 },
};

/* --- Unitless values ---------------------------------------------------- */

int sim_units_parse_int(const char *text, int64_t *out)
{
    const char *p = text;
    bool neg = false;
    uint64_t v = 0, limit;
    int base = 10, ndig = 0;

    if (!text)
        return SIM_EPARSE;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *p; p++) {
        int digit;

        if (isdigit((unsigned char)*p))
            digit = *p - '0';
        else if (base == 16 && isxdigit((unsigned char)*p))
            digit = tolower((unsigned char)*p) - 'a' + 10;
        else
            return SIM_EPARSE;
        if (v > (limit - (uint64_t)digit) / (uint64_t)base)
            return SIM_EOVERFLOW;
        v = v * (uint64_t)base + (uint64_t)digit;
        ndig++;
    }
    if (ndig == 0)
        return SIM_EPARSE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int sim_units_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    if (!text)
        return SIM_EPARSE;
    for (size_t i = 0; i < NUNITS(yes); i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return SIM_EPARSE;
}

int sim_units_parse_float(const char *text, double *out)
{
    char *end;
    double v;

    /* strtod skips leading blanks and accepts "nan"/"inf": refuse both. */
    if (!text || !*text || isspace((unsigned char)*text))
        return SIM_EPARSE;
    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0')
        return SIM_EPARSE;
    if (!isfinite(v))
        return SIM_ERANGE;
    if (errno == ERANGE && fabs(v) > 1.0)
        return SIM_EOVERFLOW;
    *out = v;
    return 0;
}

int sim_units_parse_ratio(const char *text, double *out)
{
    const char *p = text;
    struct dec d;
    double v;
    int err;

    if (!text)
        return SIM_EPARSE;
    err = dec_parse(&p, &d);
    if (err)
        return err;
    v = (double)d.mant / (double)pow10_u128(d.frac);
    if (*p == '%') {
        v /= 100.0;
        p++;
    }
    if (*p != '\0')
        return SIM_EPARSE;
    if (v > 1.0)
        return SIM_ERANGE;
    *out = v;
    return 0;
}

/* --- Values with units -------------------------------------------------- */

int sim_units_parse_size(const char *text, uint64_t *bytes)
{
    return parse_with_unit(text, size_units, NUNITS(size_units), ROUND_EXACT,
                           UINT64_MAX, bytes, NULL);
}

int sim_units_parse_latency(const char *text, struct sim_latency *out)
{
    uint64_t v;
    size_t which = 0;
    int err;

    /* Try as cycles first only to know which rounding applies: cycles must
     * be whole, times round to the nearest picosecond. */
    err = parse_with_unit(text, time_units, NUNITS(time_units), ROUND_EXACT,
                          SIM_TICK_MAX - 1, &v, &which);
    if (err == SIM_ERANGE && which < TIME_FIRST_CYCLE_UNIT)
        err = parse_with_unit(text, time_units, TIME_FIRST_CYCLE_UNIT,
                              ROUND_NEAREST, SIM_TICK_MAX - 1, &v, &which);
    if (err)
        return err;
    out->value = v;
    out->cycles = which >= TIME_FIRST_CYCLE_UNIT;
    return 0;
}

int sim_units_parse_bandwidth(const char *text, uint64_t *bits_per_s)
{
    return parse_with_unit(text, bw_units, NUNITS(bw_units), ROUND_NEAREST,
                           UINT64_MAX, bits_per_s, NULL);
}

/* --- Canonical printing ------------------------------------------------- */

/* The largest unit in [first, first + n) dividing v exactly (v > 0). */
static const struct unit *largest_exact(const struct unit *units, size_t n,
                                        uint64_t v)
{
    const struct unit *best = NULL;

    for (size_t i = 0; i < n; i++)
        if (v % units[i].mult == 0 && (!best || units[i].mult > best->mult))
            best = &units[i];
    return best;
}

static int format_exact(char *buf, size_t len, const struct unit *units,
                        size_t n, uint64_t v)
{
    const struct unit *u = v ? largest_exact(units, n, v) : &units[0];

    return snprintf(buf, len, "%" PRIu64 "%s", v / u->mult, u->name);
}

int sim_units_format_size(char *buf, size_t len, uint64_t bytes)
{
    /* Binary units first: sizes in this simulator are mostly powers of 2. */
    const struct unit *u = bytes ? largest_exact(size_units, 6, bytes) : NULL;

    if (bytes && u->mult == 1) {
        const struct unit *si = largest_exact(size_units + 6, 4, bytes);
        if (si)
            u = si;
    }
    if (!u)
        u = &size_units[0];
    return snprintf(buf, len, "%" PRIu64 "%s", bytes / u->mult, u->name);
}

int sim_units_format_latency(char *buf, size_t len, struct sim_latency lat)
{
    if (lat.cycles)
        return snprintf(buf, len, "%" PRIu64 "cycles", lat.value);
    return format_exact(buf, len, time_units, TIME_FIRST_CYCLE_UNIT, lat.value);
}

int sim_units_format_freq(char *buf, size_t len, uint64_t hz)
{
    static const struct unit f[] = {
        { "Hz", 1 }, { "kHz", 1000 }, { "MHz", 1000000 },
        { "GHz", 1000000000 }, { "THz", UINT64_C(1000000000000) },
    };

    return format_exact(buf, len, f, NUNITS(f), hz);
}

int sim_units_format_bandwidth(char *buf, size_t len, uint64_t bits_per_s)
{
    /* The shorter of the bit-based and the byte-based spelling; bytes win
     * ties ("32GB/s", not "256Gbps"; "100Gbps", not "12500MB/s"). */
    char bits[48], bytes[48];
    const struct unit *u;

    format_exact(bits, sizeof(bits), bw_units, 5, bits_per_s);
    bytes[0] = '\0';
    if (bits_per_s && bits_per_s % 8 == 0) {
        u = largest_exact(bw_units + 5, NUNITS(bw_units) - 5, bits_per_s);
        snprintf(bytes, sizeof(bytes), "%" PRIu64 "%s", bits_per_s / u->mult, u->name);
    }
    if (bytes[0] && strspn(bytes, "0123456789") <= strspn(bits, "0123456789"))
        return snprintf(buf, len, "%s", bytes);
    return snprintf(buf, len, "%s", bits);
}
