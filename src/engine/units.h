/*
 * units.h - strict parsing and canonical printing of parameter values.
 *
 * Every value a user writes (in a config, on the command line with --set, in
 * a sweep file) goes through these functions, so "80ns" means the same thing
 * everywhere and a typo is an error, never a silent default.
 *
 * Syntax, stated once:
 *  - A number with a unit is a non-negative decimal ("80", "1.5", ".5" is
 *    rejected: a digit must come first), at most ONE space, then the unit:
 *    "80ns" and "80 ns" are accepted, "80  ns", " 80ns", "80ns " are not.
 *    Exponents ("1e3ns") are not accepted. At most 24 significant digits.
 *  - Units are case-sensitive ("ns", not "NS"; "MiB", not "mib").
 *  - A unit is required where the type has one: a bare "80" for a latency is
 *    SIM_EUNIT, and the caller's message names the expected form
 *    (sim_param_type_expected() in engine/param.h).
 *
 * Rounding and overflow, stated once:
 *  - size:      bytes, must be a whole number ("1.5KiB" = 1536 is fine,
 *               "0.1KiB" = 102.4 bytes is SIM_ERANGE). Max UINT64_MAX.
 *  - latency:   picoseconds (ticks), rounded to the nearest tick, halves up
 *               ("1.0005ns" = 1001 ps). Max SIM_TICK_MAX - 1 (SIM_TICK_MAX
 *               means "never"). In cycles the count must be whole.
 *  - frequency: sim_clock_parse_hz(): whole Hz, 1 Hz .. 1 THz.
 *  - bandwidth: bits per second, rounded to the nearest bit/s, halves up.
 *               Max UINT64_MAX bit/s (about 2.3 EB/s).
 *  - int:       int64 range; decimal or 0x hexadecimal, optional sign.
 *  - ratio:     a decimal in [0, 1] or a percentage in [0%, 100%].
 * A value above the maximum is SIM_EOVERFLOW; a value that cannot be
 * represented (fractional byte, fractional cycle, ratio above 1) is
 * SIM_ERANGE; not a number is SIM_EPARSE; a missing or unknown unit is
 * SIM_EUNIT.
 *
 * Printing gives the canonical text, which parses back to the same value:
 * the largest unit that represents the value exactly (4096 bytes -> "4KiB",
 * 80000 ps -> "80ns", 10^11 bit/s -> "100Gbps").
 */
#ifndef SIM_UNITS_H
#define SIM_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A latency as written: either picoseconds, or cycles of the owner's clock. */
struct sim_latency {
    uint64_t value;         /* ticks (ps), or cycles when `cycles` is set */
    bool cycles;
};

int sim_units_parse_int(const char *text, int64_t *out);
int sim_units_parse_bool(const char *text, bool *out);
int sim_units_parse_float(const char *text, double *out);   /* finite */
int sim_units_parse_ratio(const char *text, double *out);
int sim_units_parse_size(const char *text, uint64_t *bytes);
int sim_units_parse_latency(const char *text, struct sim_latency *out);
int sim_units_parse_bandwidth(const char *text, uint64_t *bits_per_s);
/* Frequencies: sim_clock_parse_hz() in engine/clock.h. */

/*
 * Canonical text of a value into buf (always NUL-terminated). Returns the
 * length snprintf() would have written.
 */
int sim_units_format_size(char *buf, size_t len, uint64_t bytes);
int sim_units_format_latency(char *buf, size_t len, struct sim_latency lat);
int sim_units_format_freq(char *buf, size_t len, uint64_t hz);
int sim_units_format_bandwidth(char *buf, size_t len, uint64_t bits_per_s);

#endif /* SIM_UNITS_H */
