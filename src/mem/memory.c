/*
 * memory.c - latency + channels with bandwidth and FIFO queueing (memory.h).
 *
 * Channels use sim_resource in reserve mode: a transfer's service time is
 * known on arrival, so its completion tick is computed at once and one event
 * finishes the request. Service time is rounded up to whole ticks (1 ps), so
 * bandwidth is never overstated.
 */
#include "mem/memory.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

int mem_init(struct mem *m, struct sim *sim, const struct mem_cfg *cfg,
             char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "memory";
    unsigned i;
    int r;

    memset(m, 0, sizeof(*m));
    if (cfg->channels == 0)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "channels (got 0, expected >= 1)");
    if (cfg->interleave == 0 || (cfg->interleave & (cfg->interleave - 1)))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "interleave (got %u, expected a power of two)", cfg->interleave);
    if (!(cfg->llc_hit >= 0.0 && cfg->llc_hit <= 1.0))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "llc_hit (got %g, expected 0..1)", cfg->llc_hit);
    m->chan = calloc(cfg->channels, sizeof(*m->chan));
    if (!m->chan)
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    for (i = 0; i < cfg->channels; i++) {
        r = sim_resource_init(&m->chan[i], sim, 1);
        if (r) {
            m->cfg.channels = i;
            mem_destroy(m);
            return sim_error_format(err, errlen, r, path, NULL);
        }
    }
    m->sim = sim;
    m->cfg = *cfg;
    /* memo_bytes are 0 (memset): a slot holding 0 never matches, since a
     * 0-byte access skips the memo. */
    sim_rng_seed(&m->rng, cfg->seed, path);
    return 0;
}

void mem_destroy(struct mem *m)
{
    unsigned i;

    if (m->chan)
        for (i = 0; i < m->cfg.channels; i++)
            sim_resource_destroy(&m->chan[i]);
    free(m->chan);
    m->chan = NULL;
}

static void mem_done_event(struct sim_event *ev, void *arg)
{
    struct mem_req *r = arg;

    (void)ev;
    r->done(r);
}

sim_tick_t mem_access_book(struct mem *m, struct mem_req *r)
{
    sim_tick_t now = sim_now(m->sim), done, lat;
    unsigned bin = 0;

    r->issued = now;
    m->st.requests++;
    m->st.bytes += r->bytes;
    if (r->pt) {
        m->st.pt_reads++;
        if (m->cfg.llc_hit > 0.0 && sim_rng_uniform(&m->rng) < m->cfg.llc_hit) {
            m->st.llc_hits++;
            done = now + m->cfg.llc_latency;
            goto out;
        }
    }
    if (m->cfg.bandwidth) {
        unsigned slot = (r->bytes * 0x9E3779B1u) >> 30;    /* 2 bits: MEM_MEMO */
        sim_tick_t service;

        /* Two-way, by slot pairs (as link.c's): 8-byte PTE reads and
         * 16-byte descriptors hash alike and took turns evicting each
         * other, a division each time. */
        if (r->bytes && m->memo_bytes[slot] == r->bytes) {
            service = m->memo_service[slot];
        } else if (r->bytes && m->memo_bytes[slot ^ 1] == r->bytes) {
            service = m->memo_service[slot ^ 1];
        } else {
            /* ceil(bytes * 1e12 / bandwidth) ticks */
            double t = (double)r->bytes * (double)SIM_TICKS_PER_S / (double)m->cfg.bandwidth;

            service = (sim_tick_t)t;
            if ((double)service < t)
                service++;
            /* The slot's old size moves to the pair (the older goes). */
            m->memo_bytes[slot ^ 1] = m->memo_bytes[slot];
            m->memo_service[slot ^ 1] = m->memo_service[slot];
            m->memo_bytes[slot] = r->bytes;
            m->memo_service[slot] = service;
        }
        done = sim_resource_reserve(&m->chan[mem_channel(m, r->addr)], service, NULL);
    } else {
        done = now;
    }
    done += m->cfg.latency;
out:
    lat = done - now;
    m->st.lat_sum += (double)lat;
    if (lat > m->st.lat_max)
        m->st.lat_max = lat;
    if (lat)
        bin = 64u - (unsigned)__builtin_clzll(lat);
    m->st.lat_hist[bin < MEM_HIST_BINS ? bin : MEM_HIST_BINS - 1]++;
    return done;
}

void mem_access(struct mem *m, struct mem_req *r)
{
    sim_tick_t done = mem_access_book(m, r);

    sim_event_init(&r->ev, mem_done_event, r, SIM_PRIO_DEFAULT);
    sim_event_schedule(m->sim, &r->ev, done);
}

double mem_utilisation(struct mem *m, unsigned ch)
{
    return ch < m->cfg.channels ? sim_resource_utilisation(&m->chan[ch]) : 0.0;
}

void mem_reset_stats(struct mem *m)
{
    unsigned i;

    memset(&m->st, 0, sizeof(m->st));
    for (i = 0; i < m->cfg.channels; i++)
        sim_resource_reset_stats(&m->chan[i]);
}
