/*
 * link.c - the PCIe link (see link.h).
 */
#include "dev/link.h"

#include <math.h>
#include <string.h>

#include "engine/error.h"

double pcie_lane_rate(unsigned gen)
{
    switch (gen) {
    case 1: return 2.5e9 * 8.0 / 10.0;
    case 2: return 5e9 * 8.0 / 10.0;
    case 3: return 8e9 * 128.0 / 130.0;
    case 4: return 16e9 * 128.0 / 130.0;
    case 5: return 32e9 * 128.0 / 130.0;
    case 6: return 64e9 * 236.0 / 256.0;
    default: return 0.0;
    }
}

int pcie_link_init(struct pcie_link *l, struct sim *sim, const struct pcie_link_cfg *cfg)
{
    int r;

    memset(l, 0, sizeof(*l));
    if (pcie_lane_rate(cfg->gen) == 0.0 || cfg->lanes == 0 || cfg->lanes > 32 ||
        (cfg->lanes & (cfg->lanes - 1)))
        return SIM_EINVAL;
    l->sim = sim;
    l->cfg = *cfg;
    l->bits_per_s = pcie_lane_rate(cfg->gen) * cfg->lanes;
    l->ps_per_byte = 8.0 * (double)SIM_TICKS_PER_S / l->bits_per_s;
    for (unsigned i = 0; i < PCIE_LINK_MEMO; i++)
        l->memo_payload[i] = UINT32_MAX;    /* payloads are at most 4 KiB */
    r = sim_resource_init(&l->dir[PCIE_UP], sim, 1);
    if (r)
        return r;
    r = sim_resource_init(&l->dir[PCIE_DOWN], sim, 1);
    if (r)
        sim_resource_destroy(&l->dir[PCIE_UP]);
    return r;
}

void pcie_link_destroy(struct pcie_link *l)
{
    sim_resource_destroy(&l->dir[PCIE_UP]);
    sim_resource_destroy(&l->dir[PCIE_DOWN]);
}

/*
 * A payload size not in the memo: its service ticks, memoised. The memo is
 * two-way: a payload lives in its hashed slot or that slot's pair
 * (slot ^ 1), so two sizes that hash alike (16 and 220 bytes, both in the
 * quick start's every packet) do not evict each other on every TLP.
 */
sim_tick_t pcie_link_service_miss(struct pcie_link *l, uint32_t payload, uint64_t wire)
{
    unsigned s = pcie_link_memo_slot(payload);
    sim_tick_t service = (sim_tick_t)llround((double)wire * l->ps_per_byte);

    if (l->memo_payload[s] != UINT32_MAX) {
        if (l->memo_payload[s ^ 1] == UINT32_MAX)
            s ^= 1;                 /* the pair's free slot */
        else {                      /* the older of the two goes */
            l->memo_payload[s ^ 1] = l->memo_payload[s];
            l->memo_service[s ^ 1] = l->memo_service[s];
        }
    }
    l->memo_payload[s] = payload;
    l->memo_service[s] = service;
    return service;
}

double pcie_link_utilisation(struct pcie_link *l, enum pcie_dir d)
{
    return sim_resource_utilisation(&l->dir[d]);
}

void pcie_link_reset_stats(struct pcie_link *l)
{
    memset(&l->st, 0, sizeof(l->st));
    sim_resource_reset_stats(&l->dir[PCIE_UP]);
    sim_resource_reset_stats(&l->dir[PCIE_DOWN]);
}
