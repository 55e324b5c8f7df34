/*
 * zipf.c - a Zipf hot set: block rank k (1 = hottest) is drawn with
 * probability proportional to k^-s over the floor(footprint / size)
 * blocks (rejection-inversion, O(1) per draw, rng.h). Ranks are scattered
 * over the footprint by a fixed multiplicative permutation (rank r goes to
 * block (r - 1) * p mod n, p a prime that does not divide n), so the hot
 * blocks are not all on one page, as the hot keys of a store are not.
 */
#include <stdlib.h>

#include "dev/traffic/traffic.h"
#include "engine/error.h"

struct zipf_state {
    struct sim_zipf z;
    uint64_t n, mult;
};

static int zipf_init(struct traffic *t, char *err, size_t errlen)
{
    struct zipf_state *s = calloc(1, sizeof(*s));
    static const uint64_t primes[] = { UINT64_C(2654435761), UINT64_C(40503), 1 };

    if (!s)
        return sim_error_format(err, errlen, SIM_ENOMEM, t->cfg.path, NULL);
    s->n = t->cfg.footprint / t->cfg.size;
    if (sim_zipf_init(&s->z, s->n, t->cfg.zipf_s) != 0) {
        free(s);
        return sim_error_format(err, errlen, SIM_EINVAL, t->cfg.path,
                                "zipf_s (got %g, expected > 0)", t->cfg.zipf_s);
    }
    for (unsigned i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
        s->mult = primes[i];
        if (s->n % primes[i])
            break;
    }
    t->priv = s;
    return 0;
}

static uint64_t zipf_next(struct traffic *t)
{
    struct zipf_state *s = t->priv;
    uint64_t r = sim_zipf_sample(&s->z, &t->rng) - 1;

    return (uint64_t)(((unsigned __int128)r * s->mult) % s->n) * t->cfg.size;
}

static void zipf_destroy(struct traffic *t)
{
    free(t->priv);
    t->priv = NULL;
}

const struct traffic_ops traffic_zipf = {
    .name = "zipf",
    .doc = "transfers to `size`-aligned blocks of `footprint` with Zipf(`zipf_s`) popularity",
    .init = zipf_init,
    .next_offset = zipf_next,
    .destroy = zipf_destroy,
};
