/*
 * clockdomain.c - the ClockDomain model: a named frequency that other
 * objects reference to turn latencies given in cycles into ticks.
 *
 * The instance is a struct sim_clock (clock.h); conversions are exact, so a
 * 3 GHz domain does not drift.
 */
#include <stdlib.h>

#include "engine/error.h"
#include "engine/models.h"
#include "stats/objstats.h"

enum { CD_FREQUENCY };
enum { CD_READ_FREQUENCY, CD_READ_PERIOD };

static const struct sim_param cd_params[] = {
    [CD_FREQUENCY] = {
        .name = "frequency", .type = SIM_PT_FREQ, .def = "1GHz",
        .doc = "clock frequency; a cycle lasts 1/frequency, converted to ticks exactly",
    },
};

static const struct sim_readout cd_readouts[] = {
    [CD_READ_FREQUENCY] = { "frequency", "Hz", "the clock frequency" },
    [CD_READ_PERIOD] = { "period", "ps", "the nominal period, rounded to a tick" },
};

static int cd_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct sim_clock *clk = malloc(sizeof(*clk));
    int rc;

    (void)w;
    (void)err;
    (void)errlen;
    if (!clk)
        return SIM_ENOMEM;
    rc = sim_clock_init(clk, obj->values[CD_FREQUENCY].u);
    if (rc) {
        free(clk);
        return rc;
    }
    obj->priv = clk;
    return 0;
}

static void cd_destroy(struct sim_object *obj)
{
    free(obj->priv);
    obj->priv = NULL;
}

static double cd_read(const struct sim_object *obj, unsigned idx)
{
    const struct sim_clock *clk = obj->priv;

    return idx == CD_READ_FREQUENCY ? (double)clk->hz : (double)sim_clock_period(clk);
}

/* The frequency and period, constant, so a stats file says what they were. */
static int cd_register_stats(struct sim_object *obj, void *reg)
{
    return stats_object_readouts(reg, obj, 0);
}

static const struct sim_model_ops cd_ops = {
    .create = cd_create,
    .destroy = cd_destroy,
    .read = cd_read,
    .register_stats = cd_register_stats,
};

const struct sim_model sim_model_clock_domain = {
    .name = "ClockDomain",
    .doc = "A clock domain. Objects that take a `clock` reference measure their "
           "latencies given in cycles against it.",
    .params = cd_params, .nparams = sizeof(cd_params) / sizeof(cd_params[0]),
    .readouts = cd_readouts, .nreadouts = sizeof(cd_readouts) / sizeof(cd_readouts[0]),
    .ops = &cd_ops,
};

const struct sim_clock *sim_clock_domain_clock(const struct sim_object *obj)
{
    return obj && obj->model == &sim_model_clock_domain ? obj->priv : NULL;
}
