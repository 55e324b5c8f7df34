/*
 * test_units.c - strict value parsing (units.h): accepted spellings, the
 * rounding and overflow rules, rejections, and canonical printing that reads
 * back to the same value. Expected values are worked out by hand from the
 * unit definitions (1 KiB = 2^10 B, 1 ns = 10^3 ps, 1 GB/s = 8 * 10^9 bit/s).
 */
#include <stdint.h>
#include <string.h>

#include "engine/error.h"
#include "engine/param.h"
#include "engine/units.h"
#include "testutil.h"

void test_units_size(void);
void test_units_latency(void);
void test_units_latency_rounding_and_overflow(void);
void test_units_bandwidth(void);
void test_units_int_bool_float_ratio(void);
void test_units_format_round_trip(void);
void test_param_parse_messages(void);
void test_param_bounds_and_enum(void);
void test_param_lists(void);

void test_units_size(void)
{
    static const struct { const char *text; uint64_t bytes; } ok[] = {
        { "4KiB", 4096 }, { "4 KiB", 4096 }, { "2MiB", 2097152 },
        { "1GiB", UINT64_C(1) << 30 }, { "1.5KiB", 1536 }, { "512B", 512 },
        { "4kB", 4000 }, { "1TB", UINT64_C(1000000000000) }, { "0B", 0 },
        { "16383PiB", UINT64_C(16383) << 50 },
        { "0.5KiB", 512 }, { "1.250000KiB", 1280 },
    };
    uint64_t b = 0;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        b = 0;
        CU_ASSERT_EQUAL_FATAL(sim_units_parse_size(ok[i].text, &b), 0);
        CU_ASSERT_EQUAL(b, ok[i].bytes);
    }
    CU_ASSERT_EQUAL(sim_units_parse_size("4096", &b), SIM_EUNIT);     /* unit required */
    CU_ASSERT_EQUAL(sim_units_parse_size("4KB", &b), SIM_EUNIT);      /* ambiguous: refused */
    CU_ASSERT_EQUAL(sim_units_parse_size("4kib", &b), SIM_EUNIT);     /* case matters */
    CU_ASSERT_EQUAL(sim_units_parse_size("4  KiB", &b), SIM_EPARSE);  /* one space at most */
    CU_ASSERT_EQUAL(sim_units_parse_size(" 4KiB", &b), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_size("4KiB ", &b), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_size("KiB", &b), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_size("-4KiB", &b), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_size("4.KiB", &b), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_size("1e3B", &b), SIM_EUNIT);     /* no exponents */
    /* 0.1 KiB = 102.4 bytes: not a whole byte, refused rather than rounded. */
    CU_ASSERT_EQUAL(sim_units_parse_size("0.1KiB", &b), SIM_ERANGE);
    /* 16384 PiB = 2^64 bytes: one past UINT64_MAX. */
    CU_ASSERT_EQUAL(sim_units_parse_size("16384PiB", &b), SIM_EOVERFLOW);
    CU_ASSERT_EQUAL(sim_units_parse_size("18446744073709551615B", &b), 0);
    CU_ASSERT_EQUAL(b, UINT64_MAX);
    CU_ASSERT_EQUAL(sim_units_parse_size("18446744073709551616B", &b), SIM_EOVERFLOW);
    /* 25 significant digits: more than the parser carries. */
    CU_ASSERT_EQUAL(sim_units_parse_size("1000000000000000000000000B", &b), SIM_EOVERFLOW);
}

void test_units_latency(void)
{
    struct sim_latency l;

    CU_ASSERT_EQUAL(sim_units_parse_latency("80ns", &l), 0);
    CU_ASSERT_EQUAL(l.value, 80000);
    CU_ASSERT_FALSE(l.cycles);
    CU_ASSERT_EQUAL(sim_units_parse_latency("80 ns", &l), 0);
    CU_ASSERT_EQUAL(l.value, 80000);
    CU_ASSERT_EQUAL(sim_units_parse_latency("12cycles", &l), 0);
    CU_ASSERT_EQUAL(l.value, 12);
    CU_ASSERT_TRUE(l.cycles);
    CU_ASSERT_EQUAL(sim_units_parse_latency("1 cycle", &l), 0);
    CU_ASSERT_EQUAL(l.value, 1);
    CU_ASSERT_TRUE(l.cycles);
    CU_ASSERT_EQUAL(sim_units_parse_latency("1.5us", &l), 0);
    CU_ASSERT_EQUAL(l.value, 1500000);
    CU_ASSERT_EQUAL(sim_units_parse_latency("2ms", &l), 0);
    CU_ASSERT_EQUAL(l.value, UINT64_C(2000000000));
    CU_ASSERT_EQUAL(sim_units_parse_latency("3s", &l), 0);
    CU_ASSERT_EQUAL(l.value, UINT64_C(3000000000000));
    CU_ASSERT_EQUAL(sim_units_parse_latency("7ps", &l), 0);
    CU_ASSERT_EQUAL(l.value, 7);

    CU_ASSERT_EQUAL(sim_units_parse_latency("80", &l), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_units_parse_latency("80NS", &l), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_units_parse_latency("80 nsec", &l), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_units_parse_latency("", &l), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_latency(NULL, &l), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_latency("ns", &l), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_latency("1.5cycles", &l), SIM_ERANGE); /* whole cycles */
}

void test_units_latency_rounding_and_overflow(void)
{
    struct sim_latency l;

    /* Times round to the nearest picosecond, halves up. */
    CU_ASSERT_EQUAL(sim_units_parse_latency("1.0005ns", &l), 0);     /* 1000.5 ps */
    CU_ASSERT_EQUAL(l.value, 1001);
    CU_ASSERT_EQUAL(sim_units_parse_latency("1.0004ns", &l), 0);     /* 1000.4 ps */
    CU_ASSERT_EQUAL(l.value, 1000);
    CU_ASSERT_EQUAL(sim_units_parse_latency("0.4ps", &l), 0);
    CU_ASSERT_EQUAL(l.value, 0);
    CU_ASSERT_EQUAL(sim_units_parse_latency("0.5ps", &l), 0);
    CU_ASSERT_EQUAL(l.value, 1);
    /* 1/3 ns as written: 333.333... ps rounds down to 333. */
    CU_ASSERT_EQUAL(sim_units_parse_latency("0.333333333ns", &l), 0);
    CU_ASSERT_EQUAL(l.value, 333);
    /* SIM_TICK_MAX (2^64 - 1) means "never": the last time is 2^64 - 2 ps. */
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446744073709551614ps", &l), 0);
    CU_ASSERT_EQUAL(l.value, UINT64_MAX - 1);
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446744073709551615ps", &l), SIM_EOVERFLOW);
    /* 2^64 ps = 18446744.073709551616 s: 18446745 s is past it, 18446744 s is not. */
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446744s", &l), 0);
    CU_ASSERT_EQUAL(l.value, UINT64_C(18446744000000000000));
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446745s", &l), SIM_EOVERFLOW);
    /* Rounding up may itself overflow: 18446744073709551613.5 ps -> ...614. */
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446744073709551613.5ps", &l), 0);
    CU_ASSERT_EQUAL(l.value, UINT64_MAX - 1);
    CU_ASSERT_EQUAL(sim_units_parse_latency("18446744073709551614.5ps", &l), SIM_EOVERFLOW);
}

void test_units_bandwidth(void)
{
    uint64_t bw = 0;

    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("32GB/s", &bw), 0);
    CU_ASSERT_EQUAL(bw, UINT64_C(256000000000));
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("100Gbps", &bw), 0);
    CU_ASSERT_EQUAL(bw, UINT64_C(100000000000));
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("100 Gbps", &bw), 0);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("1.6GB/s", &bw), 0);   /* exact decimal */
    CU_ASSERT_EQUAL(bw, UINT64_C(12800000000));
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("1KiB/s", &bw), 0);
    CU_ASSERT_EQUAL(bw, 8192);
    /* 0.0625 bit/s rounds to 0; 0.5 bit/s rounds up to 1. */
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("0.0625bps", &bw), 0);
    CU_ASSERT_EQUAL(bw, 0);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("0.5bps", &bw), 0);
    CU_ASSERT_EQUAL(bw, 1);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("32", &bw), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("32GB", &bw), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("32 gbps", &bw), SIM_EUNIT);
    /* 2^64 bit/s is 2305843009.213693952 GB/s. */
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("2305843009GB/s", &bw), 0);
    CU_ASSERT_EQUAL(sim_units_parse_bandwidth("2305843010GB/s", &bw), SIM_EOVERFLOW);
}

void test_units_int_bool_float_ratio(void)
{
    int64_t i = 0;
    bool b = false;
    double f = 0;

    CU_ASSERT_EQUAL(sim_units_parse_int("42", &i), 0);
    CU_ASSERT_EQUAL(i, 42);
    CU_ASSERT_EQUAL(sim_units_parse_int("-7", &i), 0);
    CU_ASSERT_EQUAL(i, -7);
    CU_ASSERT_EQUAL(sim_units_parse_int("0x1000", &i), 0);
    CU_ASSERT_EQUAL(i, 4096);
    CU_ASSERT_EQUAL(sim_units_parse_int("9223372036854775807", &i), 0);
    CU_ASSERT_EQUAL(i, INT64_MAX);
    CU_ASSERT_EQUAL(sim_units_parse_int("-9223372036854775808", &i), 0);
    CU_ASSERT_EQUAL(i, INT64_MIN);
    CU_ASSERT_EQUAL(sim_units_parse_int("9223372036854775808", &i), SIM_EOVERFLOW);
    CU_ASSERT_EQUAL(sim_units_parse_int("-9223372036854775809", &i), SIM_EOVERFLOW);
    CU_ASSERT_EQUAL(sim_units_parse_int("12abc", &i), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_int("1.5", &i), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_int("", &i), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_int("-", &i), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_int(" 1", &i), SIM_EPARSE);

    CU_ASSERT_EQUAL(sim_units_parse_bool("true", &b), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(sim_units_parse_bool("Off", &b), 0);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(sim_units_parse_bool("1", &b), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(sim_units_parse_bool("maybe", &b), SIM_EPARSE);

    CU_ASSERT_EQUAL(sim_units_parse_float("0.25", &f), 0);
    CU_ASSERT_EQUAL(f, 0.25);
    CU_ASSERT_EQUAL(sim_units_parse_float("-1e3", &f), 0);
    CU_ASSERT_EQUAL(f, -1000.0);
    CU_ASSERT_EQUAL(sim_units_parse_float("nan", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_float("inf", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_float("1e999", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_float(" 1", &f), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_units_parse_float("1x", &f), SIM_EPARSE);

    CU_ASSERT_EQUAL(sim_units_parse_ratio("0.25", &f), 0);
    CU_ASSERT_EQUAL(f, 0.25);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("25%", &f), 0);
    CU_ASSERT_EQUAL(f, 0.25);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("100%", &f), 0);
    CU_ASSERT_EQUAL(f, 1.0);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("1.5", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("101%", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("-0.5", &f), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_units_parse_ratio("half", &f), SIM_EPARSE);
}

void test_units_format_round_trip(void)
{
    char buf[64];
    struct sim_latency l;
    uint64_t v;

    sim_units_format_size(buf, sizeof(buf), 4096);
    CU_ASSERT_STRING_EQUAL(buf, "4KiB");
    sim_units_format_size(buf, sizeof(buf), 1536);
    CU_ASSERT_STRING_EQUAL(buf, "1536B");
    sim_units_format_size(buf, sizeof(buf), 4000);
    CU_ASSERT_STRING_EQUAL(buf, "4kB");
    sim_units_format_size(buf, sizeof(buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "0B");
    sim_units_format_latency(buf, sizeof(buf), (struct sim_latency){ 80000, false });
    CU_ASSERT_STRING_EQUAL(buf, "80ns");
    sim_units_format_latency(buf, sizeof(buf), (struct sim_latency){ 1500000, false });
    CU_ASSERT_STRING_EQUAL(buf, "1500ns");
    sim_units_format_latency(buf, sizeof(buf), (struct sim_latency){ 12, true });
    CU_ASSERT_STRING_EQUAL(buf, "12cycles");
    sim_units_format_freq(buf, sizeof(buf), 1600000000);
    CU_ASSERT_STRING_EQUAL(buf, "1600MHz");
    sim_units_format_bandwidth(buf, sizeof(buf), UINT64_C(256000000000));
    CU_ASSERT_STRING_EQUAL(buf, "32GB/s");
    sim_units_format_bandwidth(buf, sizeof(buf), UINT64_C(100000000000));
    CU_ASSERT_STRING_EQUAL(buf, "100Gbps");

    /* Every size and latency prints as text that parses back to itself. */
    for (uint64_t x = 1; x < (UINT64_C(1) << 62); x = x * 3 + 1) {
        sim_units_format_size(buf, sizeof(buf), x);
        CU_ASSERT_EQUAL(sim_units_parse_size(buf, &v), 0);
        CU_ASSERT_EQUAL(v, x);
        sim_units_format_latency(buf, sizeof(buf), (struct sim_latency){ x, false });
        CU_ASSERT_EQUAL(sim_units_parse_latency(buf, &l), 0);
        CU_ASSERT_EQUAL(l.value, x);
        sim_units_format_bandwidth(buf, sizeof(buf), x);
        CU_ASSERT_EQUAL(sim_units_parse_bandwidth(buf, &v), 0);
        CU_ASSERT_EQUAL(v, x);
    }
}

void test_param_parse_messages(void)
{
    static const struct sim_param lat = {
        .name = "hit_latency", .type = SIM_PT_LATENCY, .def = "2ns", .doc = "d",
    };
    static const struct sim_param req = {
        .name = "size", .type = SIM_PT_SIZE, .doc = "d",
    };
    struct sim_value v;
    char err[512];

    /* "80" for a latency: refused, naming the expected form. */
    CU_ASSERT_EQUAL(sim_param_parse(&lat, "80", &v, err, sizeof(err)), SIM_EUNIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "got '80'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected a time such as '80ns' or '12cycles'"));
    /* NULL text takes the default. */
    CU_ASSERT_EQUAL(sim_param_parse(&lat, NULL, &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.lat.value, 2000);
    /* No default: required. */
    CU_ASSERT_EQUAL(sim_param_parse(&req, NULL, &v, err, sizeof(err)), SIM_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing required parameter"));
    CU_ASSERT_EQUAL(sim_param_parse(&req, "0.1KiB", &v, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a whole number of bytes (got '0.1KiB'"));
}

void test_param_bounds_and_enum(void)
{
    static const char *const policies[] = { "lru", "fifo", "random", NULL };
    static const struct sim_param ways = {
        .name = "ways", .type = SIM_PT_INT, .def = "4", .min = "1", .max = "64", .doc = "d",
    };
    static const struct sim_param pol = {
        .name = "policy", .type = SIM_PT_ENUM, .def = "lru", .choices = policies, .doc = "d",
    };
    static const struct sim_param lat = {
        .name = "period", .type = SIM_PT_LATENCY, .def = "1ns", .min = "1ns",
        .flags = SIM_PF_NO_CYCLES, .doc = "d",
    };
    struct sim_value v;
    char err[512];

    CU_ASSERT_EQUAL(sim_param_parse(&ways, "64", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_param_parse(&ways, "1", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_param_parse(&ways, "0", &v, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "value too small (got '0', expected at least 1)");
    CU_ASSERT_EQUAL(sim_param_parse(&ways, "65", &v, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_STRING_EQUAL(err, "value too large (got '65', expected at most 64)");
    CU_ASSERT_EQUAL(sim_param_parse(&pol, "fifo", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.e, 1);
    CU_ASSERT_EQUAL(sim_param_parse(&pol, "LRU", &v, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_STRING_EQUAL(err, "not one of the choices (got 'LRU', expected 'lru', "
                                "'fifo' or 'random')");
    CU_ASSERT_EQUAL(sim_param_parse(&lat, "999ps", &v, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_param_parse(&lat, "1000ps", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_param_parse(&lat, "3cycles", &v, err, sizeof(err)), SIM_EUNIT);
}

void test_param_lists(void)
{
    static const struct sim_param times = {
        .name = "times", .type = SIM_PT_LATENCY, .def = "", .min = "1ns",
        .flags = SIM_PF_LIST, .doc = "d",
    };
    static const struct sim_param need = {
        .name = "sizes", .type = SIM_PT_SIZE, .flags = SIM_PF_LIST, .doc = "d",
    };
    struct sim_value v;
    char err[512], buf[128];

    CU_ASSERT_EQUAL_FATAL(sim_param_parse(&times, "10ns,1.5us, 3cycles", &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.list.n, 3);
    CU_ASSERT_EQUAL(v.list.items[0].lat.value, 10000);
    CU_ASSERT_EQUAL(v.list.items[1].lat.value, 1500000);
    CU_ASSERT_TRUE(v.list.items[2].lat.cycles);
    sim_param_format(&times, &v, buf, sizeof(buf));
    CU_ASSERT_STRING_EQUAL(buf, "10ns,1500ns,3cycles");
    /* Truncation still NUL-terminates and reports the full length. */
    CU_ASSERT_EQUAL(sim_param_format(&times, &v, buf, 8), 19);
    CU_ASSERT_STRING_EQUAL(buf, "10ns,15");
    sim_param_value_free(&times, &v);

    /* The default "" is the empty list. */
    CU_ASSERT_EQUAL(sim_param_parse(&times, NULL, &v, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.list.n, 0);
    sim_param_value_free(&times, &v);

    /* Errors name the item; bounds apply per item. */
    CU_ASSERT_EQUAL(sim_param_parse(&times, "10ns,80", &v, err, sizeof(err)), SIM_EUNIT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "item 2 of 2: missing or unknown unit (got '80'"));
    CU_ASSERT_EQUAL(sim_param_parse(&times, "10ns,500ps", &v, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "item 2 of 2: value too small (got '500ps'"));
    CU_ASSERT_EQUAL(sim_param_parse(&times, "10ns,,20ns", &v, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "item 2 of 3: not a latency (got ''"));
    CU_ASSERT_EQUAL(sim_param_parse(&times, "10ns,  20ns", &v, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_param_parse(&need, NULL, &v, err, sizeof(err)), SIM_ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected a comma-separated list, each item a size"));
}
