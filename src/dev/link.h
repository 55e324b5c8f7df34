/*
 * link.h - a PCIe link: bandwidth from generation and lanes, per-TLP
 * overhead, a fixed latency, and one sim_resource per direction.
 *
 * PCIe is full duplex, so the upstream direction (device to host: memory
 * write TLPs with their data, read request TLPs) and the downstream one
 * (host to device: read completions with data) are separate servers. A TLP
 * occupies its direction for (payload + overhead) bytes at the link's data
 * rate, queueing FIFO behind earlier TLPs, then arrives `latency` later
 * (PHY, retimers, root port). Flow-control credits and DLLP traffic are not
 * modelled; the overhead bytes per TLP stand for them on average.
 *
 * Data rate per lane after line coding (PCI-SIG base specifications):
 *   gen1 2.5 GT/s x 8b/10b    = 2 Gb/s     gen4 16 GT/s x 128b/130b = 15.754 Gb/s
 *   gen2 5 GT/s x 8b/10b      = 4 Gb/s     gen5 32 GT/s x 128b/130b = 31.508 Gb/s
 *   gen3 8 GT/s x 128b/130b   = 7.877 Gb/s gen6 64 GT/s, FLIT mode: 236 of 256
 *                                          bytes carry TLPs = 59.0 Gb/s
 * Cost per TLP: one reserve (O(1)) and, for a payload size not seen
 * recently, one rounding of its service time; no allocation.
 */
#ifndef SIM_DEV_LINK_H
#define SIM_DEV_LINK_H

#include <stdint.h>

#include "engine/resource.h"
#include "engine/sim.h"

enum pcie_dir { PCIE_UP = 0, PCIE_DOWN = 1 };

struct pcie_link_cfg {
    unsigned gen;                   /* 1..6 */
    unsigned lanes;                 /* 1, 2, 4, 8, 16 */
    uint32_t tlp_overhead;          /* bytes per TLP: header, sequence, LCRC, framing */
    sim_tick_t latency;             /* one way */
};

struct pcie_link_stats {
    uint64_t tlps[2];
    uint64_t bytes[2];              /* payload */
    uint64_t wire_bytes[2];         /* payload + overhead */
};

#define PCIE_LINK_MEMO 8             /* payload sizes whose service time is kept */

struct pcie_link {
    struct sim *sim;
    struct pcie_link_cfg cfg;
    double bits_per_s;              /* data rate of the whole link, one direction */
    double ps_per_byte;
    /* Service ticks of recent payload sizes (a device sends few distinct
     * sizes), two-way by hashed slot pairs: spares the rounding call per
     * TLP, same value. */
    uint32_t memo_payload[PCIE_LINK_MEMO];
    sim_tick_t memo_service[PCIE_LINK_MEMO];
    struct sim_resource dir[2];
    struct pcie_link_stats st;
};

/* Data rate of one lane of generation @gen in bit/s (0 for unknown gens). */
double pcie_lane_rate(unsigned gen);

/* SIM_EINVAL for a gen outside 1..6 or lanes not in {1,2,4,8,16,32}; SIM_ENOMEM. */
int pcie_link_init(struct pcie_link *l, struct sim *sim, const struct pcie_link_cfg *cfg);
void pcie_link_destroy(struct pcie_link *l);

/* The memo slot of a payload size (3 bits: PCIE_LINK_MEMO). */
static inline unsigned pcie_link_memo_slot(uint32_t payload)
{
    return (payload * 0x9E3779B1u) >> 29;
}

/* Service ticks of a payload not in the memo (link.c); memoises it. */
sim_tick_t pcie_link_service_miss(struct pcie_link *l, uint32_t payload, uint64_t wire);

/*
 * Send one TLP carrying @payload bytes now; returns its arrival tick.
 * Inline: a DMA request sends two or three, and a memo hit is a compare.
 */
static inline sim_tick_t pcie_link_send(struct pcie_link *l, enum pcie_dir d, uint32_t payload)
{
    uint64_t wire = (uint64_t)payload + l->cfg.tlp_overhead;
    unsigned s = pcie_link_memo_slot(payload);
    sim_tick_t service;

    if (l->memo_payload[s] == payload)
        service = l->memo_service[s];
    else if (l->memo_payload[s ^ 1] == payload)
        service = l->memo_service[s ^ 1];
    else
        service = pcie_link_service_miss(l, payload, wire);
    l->st.tlps[d]++;
    l->st.bytes[d] += payload;
    l->st.wire_bytes[d] += wire;
    return sim_resource_reserve(&l->dir[d], service, NULL) + l->cfg.latency;
}

/* Busy fraction of a direction since the last reset. */
double pcie_link_utilisation(struct pcie_link *l, enum pcie_dir d);

void pcie_link_reset_stats(struct pcie_link *l);

#endif /* SIM_DEV_LINK_H */
