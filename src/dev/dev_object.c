/*
 * dev_object.c - the `DmaDevice` model descriptor (see dev_object.h).
 *
 * One object builds, in its create op, the device's mapping layer (its own
 * domain on the referenced IOMMU (any model), an IOVA allocator and the policy),
 * binds its requester id to that domain (unless passthrough), and builds the
 * DMA engine and the traffic pattern; connect maps the pattern's buffers
 * and schedules its first events. Readouts copy the inline counters.
 */
#include "dev/dev_object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dma_engine.h"
#include "dev/traffic/traffic.h"
#include "engine/error.h"
#include "iommu/consumers/vhost_iotlb.h"
#include "iommu/domain.h"
#include "mem/mem_object.h"
#include "os/dma.h"
#include "stats/objstats.h"
#include "stats/registry.h"

enum {
    P_IOMMU, P_MEMORY, P_REQUESTER_ID, P_DOMAIN, P_PASID,
    P_TAGS, P_MAX_PAYLOAD, P_ATS_ENTRIES, P_ATS_WAYS, P_ATS_HIT_LATENCY,
    P_ATS_INVAL_LATENCY, P_PCIE_GEN, P_LANES, P_TLP_OVERHEAD, P_LINK_LATENCY,
    P_PATTERN, P_ISSUE, P_ARRIVALS, P_RATE, P_SIZE, P_FOOTPRINT, P_STRIDE, P_ZIPF_S,
    P_WRITE_RATIO, P_SLOTS, P_BUF_BASE,
    P_NIC_DIRECTION, P_LINE_RATE, P_RING, P_BUF_SIZE, P_DESC_SIZE, P_PKT_SIZES,
    P_PKT_WEIGHTS, P_MEDIA_LATENCY, P_PAGE_SIZE,
    P_POLICY, P_CPUS, P_DMA_BITS, P_MAP_COST, P_UNMAP_COST, P_INVAL_SUBMIT, P_INVAL_WAIT,
    P_FQ_SIZE, P_FQ_TIMEOUT, P_HOST_IOMMU, P_HOST_DOMAIN, P_DEVTLB, P_SECURE,
};

static const char *const issue_names[] = { "closed", "open", NULL };
static const char *const arrivals_names[] = { "periodic", "poisson", NULL };
static const char *const nic_dir_names[] = { "rx", "tx", NULL };

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .doc = docs }

static const struct sim_param dev_params[] = {
    [P_IOMMU] = { .name = "iommu", .type = SIM_PT_REF, .ref_model = IOMMU_OBJECT_IFACE,
                  .doc = "the IOMMU the device's requests are translated by" },
    [P_MEMORY] = { .name = "memory", .type = SIM_PT_REF, .ref_model = "Memory",
                   .doc = "the Memory that DMA data goes to and comes from" },
    [P_REQUESTER_ID] = { .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0",
                         .max = "65535",
                         .doc = "PCI bus/device/function (or stream id) of every request" },
    [P_DOMAIN] = { .name = "domain", .type = SIM_PT_INT, .def = "-1", .min = "-1",
                   .max = "65535",
                   .doc = "the IOMMU domain the device's DMA API allocates in (one device "
                          "per domain); -1 for the requester id" },
    [P_PASID] = { .name = "pasid", .type = SIM_PT_INT, .def = "-1", .min = "-1",
                  .max = "1048575", .doc = "PASID on every request; -1 for none" },
    [P_TAGS] = { .name = "tags", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
                 .doc = "outstanding requests at most (PCIe tags); a preallocated pool" },
    [P_MAX_PAYLOAD] = { .name = "max_payload", .type = SIM_PT_SIZE, .def = "256B",
                        .min = "1B", .max = "4KiB",
                        .doc = "bytes per request (Max_Payload_Size / Max_Read_Request); "
                               "requests never cross a 4 KiB page either" },
    [P_ATS_ENTRIES] = { .name = "ats_entries", .type = SIM_PT_INT, .def = "0", .min = "0",
                        .max = "1048576", .doc = "ATS device TLB entries; 0 for no ATS "
                        "(every request translated by the IOMMU)" },
    [P_ATS_WAYS] = { .name = "ats_ways", .type = SIM_PT_INT, .def = "0", .min = "0",
                     .max = "1048576", .doc = "ATS device TLB ways; 0 for fully associative" },
    [P_ATS_HIT_LATENCY] = ABS_TIME("ats_hit_latency", "2ns", "ATS device TLB lookup time"),
    [P_ATS_INVAL_LATENCY] = ABS_TIME("ats_inval_latency", "1us", "an ATS invalidation's "
                                     "round trip (request to completion), which a strict "
                                     "unmap waits for"),
    [P_PCIE_GEN] = { .name = "pcie_gen", .type = SIM_PT_INT, .def = "4", .min = "1",
                     .max = "6", .doc = "PCIe generation: the lane rate after line coding "
                     "(gen3 7.88, gen4 15.75, gen5 31.5 Gb/s)" },
    [P_LANES] = { .name = "lanes", .type = SIM_PT_INT, .def = "16", .min = "1", .max = "32",
                  .doc = "link width, a power of two" },
    [P_TLP_OVERHEAD] = { .name = "tlp_overhead", .type = SIM_PT_SIZE, .def = "24B",
                         .max = "256B", .doc = "link bytes per TLP besides its payload "
                         "(header, sequence number, LCRC, framing)" },
    [P_LINK_LATENCY] = ABS_TIME("link_latency", "100ns",
                                "one-way latency of the link (PHY, root port)"),
    [P_PATTERN] = { .name = "pattern", .type = SIM_PT_ENUM, .def = "sequential",
                    .choices = traffic_pattern_names,
                    .doc = "traffic pattern: address streams over a mapped footprint "
                           "(sequential, strided, uniform, zipf), a NIC ring (nic), an "
                           "NVMe queue (nvme: size, slots = queue depth, write_ratio, issue) "
                           "or bulk accelerator transfers over huge pages (accel: size, "
                           "footprint, page_size)" },
    [P_ISSUE] = { .name = "issue", .type = SIM_PT_ENUM, .def = "closed",
                  .choices = issue_names,
                  .doc = "streams: closed (slots transfers always in flight) or open "
                         "(arrivals at `rate`; an arrival with every slot busy is dropped)" },
    [P_ARRIVALS] = { .name = "arrivals", .type = SIM_PT_ENUM, .def = "periodic",
                     .choices = arrivals_names,
                     .doc = "open loop: evenly spaced or Poisson arrivals" },
    [P_RATE] = { .name = "rate", .type = SIM_PT_BANDWIDTH, .def = "8GB/s", .min = "1bps",
                 .doc = "open loop: offered load of the stream" },
    [P_SIZE] = { .name = "size", .type = SIM_PT_SIZE, .def = "4KiB", .min = "1B",
                 .max = "1GiB", .doc = "streams: bytes per transfer" },
    [P_FOOTPRINT] = { .name = "footprint", .type = SIM_PT_SIZE, .def = "64MiB", .min = "1B",
                      .doc = "streams: bytes mapped once at start; transfers fall inside" },
    [P_STRIDE] = { .name = "stride", .type = SIM_PT_SIZE, .def = "4KiB", .min = "1B",
                   .doc = "strided: bytes between consecutive transfers" },
    [P_ZIPF_S] = { .name = "zipf_s", .type = SIM_PT_FLOAT, .def = "1.0", .min = "0.01",
                   .max = "10", .doc = "zipf: exponent of the block popularity" },
    [P_WRITE_RATIO] = { .name = "write_ratio", .type = SIM_PT_RATIO, .def = "0",
                        .doc = "streams: fraction of transfers that write memory" },
    [P_SLOTS] = { .name = "slots", .type = SIM_PT_INT, .def = "16", .min = "1",
                  .max = "1048576", .doc = "streams: transfers in flight at most" },
    [P_BUF_BASE] = { .name = "buf_base", .type = SIM_PT_SIZE, .def = "4GiB", .min = "1MiB",
                     .doc = "physical address of the device's buffers (a NIC's descriptor "
                            "ring sits just below it)" },
    [P_NIC_DIRECTION] = { .name = "nic_direction", .type = SIM_PT_ENUM, .def = "rx",
                          .choices = nic_dir_names,
                          .doc = "nic: receive (the device writes packets) or transmit" },
    [P_LINE_RATE] = { .name = "line_rate", .type = SIM_PT_BANDWIDTH, .def = "100Gbps",
                      .min = "1Mbps", .doc = "nic: Ethernet line rate; packets arrive back "
                      "to back with 20 bytes of preamble and gap each" },
    [P_RING] = { .name = "ring", .type = SIM_PT_INT, .def = "1024", .min = "1",
                 .max = "65536", .doc = "nic: descriptors in the ring" },
    [P_BUF_SIZE] = { .name = "buf_size", .type = SIM_PT_SIZE, .def = "2KiB", .min = "64B",
                     .max = "64KiB", .doc = "nic: bytes per packet buffer (mapped per "
                     "packet under strict and lazy)" },
    [P_DESC_SIZE] = { .name = "desc_size", .type = SIM_PT_SIZE, .def = "16B", .min = "4B",
                      .max = "256B", .doc = "nic: bytes per descriptor" },
    [P_PKT_SIZES] = { .name = "pkt_sizes", .type = SIM_PT_SIZE, .def = "1500B",
                      .min = "1B", .max = "64KiB", .flags = SIM_PF_LIST,
                      .doc = "nic: packet sizes of the distribution (at most buf_size)" },
    [P_PKT_WEIGHTS] = { .name = "pkt_weights", .type = SIM_PT_FLOAT, .def = "", .min = "0",
                        .flags = SIM_PF_LIST,
                        .doc = "nic: relative frequency of each packet size; empty for "
                               "equal weights" },
    [P_MEDIA_LATENCY] = ABS_TIME("media_latency", "10us", "nvme: mean media time per "
                                 "command (a flash read or program), uniform in [m/2, 3m/2]"),
    [P_PAGE_SIZE] = { .name = "page_size", .type = SIM_PT_SIZE, .def = "2MiB", .min = "4KiB",
                      .max = "1GiB", .doc = "accel: page size the footprint is mapped with "
                      "(4KiB, 2MiB or 1GiB); buf_base must be aligned to it, and the "
                      "IOMMU's page_sizes must include it" },
    [P_POLICY] = { .name = "policy", .type = SIM_PT_ENUM, .def = "lazy",
                   .choices = os_dma_policy_names,
                   .doc = "DMA-API invalidation policy: strict (invalidate and wait on "
                          "every unmap), lazy (flush queue; the x86 default), persistent "
                          "(map once), passthrough (identity, no translation)" },
    [P_CPUS] = { .name = "cpus", .type = SIM_PT_INT, .def = "4", .min = "1", .max = "1024",
                 .doc = "driver CPUs doing the mapping work (servers, per-CPU IOVA caches "
                        "and flush queues)" },
    [P_DMA_BITS] = { .name = "dma_bits", .type = SIM_PT_INT, .def = "32", .min = "13",
                     .max = "64", .doc = "DMA mask: IOVAs are allocated top-down below "
                     "2^dma_bits (Linux gives PCI devices 32-bit IOVAs first)" },
    [P_MAP_COST] = ABS_TIME("map_cost", "100ns", "CPU time of one dma_map (IOVA allocation, "
                            "page-table writes)"),
    [P_UNMAP_COST] = ABS_TIME("unmap_cost", "100ns", "CPU time of one dma_unmap besides "
                              "invalidation (page-table clears, queueing)"),
    [P_INVAL_SUBMIT] = ABS_TIME("inval_submit", "50ns", "CPU time to submit an IOTLB "
                                "invalidation command"),
    [P_INVAL_WAIT] = ABS_TIME("inval_wait", "1us", "time the CPU waits for an invalidation "
                              "to complete (wait descriptor, CMD_SYNC)"),
    [P_FQ_SIZE] = { .name = "fq_size", .type = SIM_PT_INT, .def = "0", .min = "0",
                    .max = "1048576", .doc = "lazy: flush-queue entries per ring; 0 for "
                    "Linux's default: 256 per CPU (IOVA_DEFAULT_FQ_SIZE), or 32768 in the "
                    "one shared queue of an IOMMU whose driver uses it (virtio-iommu)" },
    [P_FQ_TIMEOUT] = ABS_TIME("fq_timeout", "0s", "lazy: flush timer; 0 for Linux's "
                              "default: 10 ms (IOVA_DEFAULT_FQ_TIMEOUT), or 1000 ms for the "
                              "shared queue"),
    [P_HOST_IOMMU] = { .name = "host_iommu", .type = SIM_PT_REF,
                       .ref_model = IOMMU_OBJECT_IFACE, .flags = SIM_PF_OPTIONAL,
                       .doc = "an assigned (VFIO) device: the host IOMMU its DMA is "
                              "translated by, in host_domain, while its driver maps into "
                              "`iommu` (the guest's virtual IOMMU); a VfioShadow keeps that "
                              "host domain equal to the guest's mappings; none: `iommu` "
                              "translates" },
    [P_HOST_DOMAIN] = { .name = "host_domain", .type = SIM_PT_INT, .def = "0", .min = "0",
                        .max = "65535", .doc = "with host_iommu: the host domain (the VFIO "
                        "container's) the device is attached to" },
    [P_DEVTLB] = { .name = "devtlb", .type = SIM_PT_REF, .ref_model = "VhostIotlb",
                   .flags = SIM_PF_OPTIONAL,
                   .doc = "a vhost backend's device IOTLB (a VhostIotlb on the same IOMMU and "
                          "requester id) that translates the device's requests instead of "
                          "the IOMMU, its misses going to `iommu`; none: the IOMMU translates" },
    [P_SECURE] = { .name = "secure", .type = SIM_PT_BOOL, .def = "false",
                   .doc = "requests carry the secure attribute (Arm TrustZone); an IOMMU "
                          "with indexes, such as a TzMpc, checks them in its secure index" },
};

enum {
    R_THROUGHPUT, R_OFFERED, R_DROPPED, R_COMPLETED, R_ERRORS,
    R_READ_BYTES, R_WRITE_BYTES, R_READ_REQUESTS, R_WRITE_REQUESTS, R_FAULTS,
    R_REQ_LAT_MEAN, R_REQ_LAT_P99, R_XLATE_LAT_MEAN, R_XLATE_LAT_P50, R_XLATE_LAT_P99,
    R_XLATE_STALL, R_PKT_LAT_P99, R_CMD_LAT_P99, R_LINK_UP_UTIL, R_LINK_DOWN_UTIL,
    R_ATS_HITS, R_ATS_MISSES, R_ATS_INVALIDATIONS,
    R_MAPS, R_UNMAPS, R_INVALIDATIONS, R_FLUSHES_FULL, R_FLUSHES_TIMEOUT,
    R_STALE_MEAN, R_STALE_MAX, R_CPU_UTIL, R_IOVA_CACHE_HIT_RATE,
};

static const struct sim_readout dev_readouts[] = {
    [R_THROUGHPUT] = { "throughput", "bit/s", "payload of completed transfers (nic: "
                       "packets) per second since the last reset" },
    [R_OFFERED] = { "offered", "arrivals", "open-loop or nic arrivals" },
    [R_DROPPED] = { "dropped", "arrivals", "arrivals dropped: every slot busy, or (nic) "
                    "no posted descriptor" },
    [R_COMPLETED] = { "completed", "transfers", "transfers (nic: packets) completed" },
    [R_ERRORS] = { "errors", "transfers", "of which completed with an error (a fault)" },
    [R_READ_BYTES] = { "read_bytes", "B", "bytes read from memory by completed requests" },
    [R_WRITE_BYTES] = { "write_bytes", "B", "bytes written to memory by completed requests" },
    [R_READ_REQUESTS] = { "read_requests", "requests", "read requests completed" },
    [R_WRITE_REQUESTS] = { "write_requests", "requests", "write requests completed" },
    [R_FAULTS] = { "faults", "requests", "requests that ended in a translation fault" },
    [R_REQ_LAT_MEAN] = { "req_lat_mean", "ps", "mean request latency (issue to completion)" },
    [R_REQ_LAT_P99] = { "req_lat_p99", "ps", "99th percentile of request latency "
                        "(log-linear bins, within 1/16)" },
    [R_XLATE_LAT_MEAN] = { "xlate_lat_mean", "ps", "mean translation latency" },
    [R_XLATE_LAT_P50] = { "xlate_lat_p50", "ps", "median translation latency" },
    [R_XLATE_LAT_P99] = { "xlate_lat_p99", "ps", "99th percentile of translation latency" },
    [R_XLATE_STALL] = { "xlate_stall", "ps", "summed time requests spent in translation" },
    [R_PKT_LAT_P99] = { "pkt_lat_p99", "ps", "nic: 99th percentile of arrival to "
                        "descriptor write-back" },
    [R_CMD_LAT_P99] = { "cmd_lat_p99", "ps", "nvme: 99th percentile of command latency "
                        "(driver map to completion entry)" },
    [R_LINK_UP_UTIL] = { "link_up_util", "ratio", "busy fraction of the upstream link" },
    [R_LINK_DOWN_UTIL] = { "link_down_util", "ratio", "busy fraction of the downstream link" },
    [R_ATS_HITS] = { "ats_hits", "requests", "requests translated by the ATS device TLB" },
    [R_ATS_MISSES] = { "ats_misses", "requests", "requests that sent a translation request" },
    [R_ATS_INVALIDATIONS] = { "ats_invalidations", "events", "invalidations the device TLB "
                              "received" },
    [R_MAPS] = { "maps", "calls", "dma_map calls" },
    [R_UNMAPS] = { "unmaps", "calls", "dma_unmap calls" },
    [R_INVALIDATIONS] = { "invalidations", "commands", "IOTLB invalidations issued by the "
                          "DMA API (strict: one per unmap; lazy: one per flush)" },
    [R_FLUSHES_FULL] = { "flushes_full", "flushes", "lazy: flushes forced by a full ring" },
    [R_FLUSHES_TIMEOUT] = { "flushes_timeout", "flushes", "lazy: flushes by the timer" },
    [R_STALE_MEAN] = { "stale_mean", "ps", "mean time from unmap until the invalidation "
                       "covering it completed (the stale window)" },
    [R_STALE_MAX] = { "stale_max", "ps", "longest stale window" },
    [R_CPU_UTIL] = { "cpu_util", "ratio", "DMA-API CPU time booked / (cpus x elapsed); work "
                     "is booked when requested, so above 1 means the CPUs are oversubscribed "
                     "and work is queued past now" },
    [R_IOVA_CACHE_HIT_RATE] = { "iova_cache_hit_rate", "ratio", "IOVA allocations served "
                                "by the per-CPU caches (not reset)" },
};

struct dev_object {
    struct os_dma os;
    struct dma_engine eng;
    struct traffic traffic;
    double *pkt_sizes, *pkt_weights;
    bool os_init, eng_init, traffic_init;
};

static int dev_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int n = 0;
    int64_t lanes = v[P_LANES].i;
    uint32_t ns = v[P_PKT_SIZES].list.n, nw = v[P_PKT_WEIGHTS].list.n;
    char msg[200];

    if (lanes & (lanes - 1)) {
        snprintf(msg, sizeof(msg), "must be a power of two (got %lld, expected 1, 2, 4, 8, "
                 "16 or 32)", (long long)lanes);
        report(ctx, "lanes", msg);
        n++;
    }
    if (ns == 0) {
        report(ctx, "pkt_sizes", "needs at least one size (got an empty list)");
        n++;
    }
    if (nw && nw != ns) {
        snprintf(msg, sizeof(msg), "one weight per packet size (got %u weights, expected %u "
                 "or none)", nw, ns);
        report(ctx, "pkt_weights", msg);
        n++;
    }
    for (uint32_t i = 0; i < ns; i++) {
        if (v[P_PKT_SIZES].list.items[i].u > v[P_BUF_SIZE].u) {
            snprintf(msg, sizeof(msg), "a packet larger than its buffer (got %llu bytes, "
                     "expected at most buf_size = %llu)",
                     (unsigned long long)v[P_PKT_SIZES].list.items[i].u,
                     (unsigned long long)v[P_BUF_SIZE].u);
            report(ctx, "pkt_sizes", msg);
            n++;
            break;
        }
    }
    if (v[P_ATS_ENTRIES].i && v[P_ATS_WAYS].i &&
        (v[P_ATS_ENTRIES].i % v[P_ATS_WAYS].i ||
         ((v[P_ATS_ENTRIES].i / v[P_ATS_WAYS].i) & (v[P_ATS_ENTRIES].i / v[P_ATS_WAYS].i - 1)))) {
        report(ctx, "ats_ways", "must divide ats_entries into a power-of-two number of sets");
        n++;
    }
    if (v[P_HOST_IOMMU].ref.path && v[P_IOMMU].ref.path &&
        strcmp(v[P_HOST_IOMMU].ref.path, v[P_IOMMU].ref.path) == 0) {
        report(ctx, "host_iommu", "must be another IOMMU than iommu (the guest's)");
        n++;
    }
    if (v[P_HOST_IOMMU].ref.path && v[P_POLICY].e == OS_DMA_PASSTHROUGH) {
        report(ctx, "host_iommu", "needs a translating policy (got passthrough: the guest "
               "maps nothing to shadow)");
        n++;
    }
    if (v[P_DEVTLB].ref.path && (v[P_HOST_IOMMU].ref.path || v[P_ATS_ENTRIES].i)) {
        report(ctx, "devtlb", "a vhost device IOTLB translates in place of ATS and of a host "
               "IOMMU (got host_iommu or ats_entries as well, expected neither)");
        n++;
    }
    if (v[P_FOOTPRINT].u < v[P_SIZE].u) {
        report(ctx, "footprint", "smaller than one transfer (expected footprint >= size)");
        n++;
    }
    return n;
}

static void dev_destroy(struct sim_object *obj)
{
    struct dev_object *o = obj->priv;

    if (!o)
        return;
    if (o->traffic_init)
        traffic_destroy(&o->traffic);
    if (o->eng_init)
        dma_engine_destroy(&o->eng);
    if (o->os_init)
        os_dma_destroy(&o->os);
    free(o->pkt_sizes);
    free(o->pkt_weights);
    free(o);
    obj->priv = NULL;
}

/* The world prefixes "path: "; inner layers already named it. */
static void strip_path(const struct sim_object *obj, char *err)
{
    size_t n = strlen(obj->path);

    if (strncmp(err, obj->path, n) == 0 && err[n] == ':' && err[n + 1] == ' ')
        memmove(err, err + n + 2, strlen(err + n + 2) + 1);
}

/* The engine's device-translator hook, answered by a vhost device IOTLB. */
static sim_tick_t devtlb_translate(void *ctx, uint64_t iova, unsigned access,
                                   struct iommu_tlb_entry *out)
{
    return vhost_iotlb_translate(ctx, iova, access, out);
}

static int dev_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    const struct sim_object *iommu_obj = v[P_IOMMU].ref.obj;
    struct iommu_domain *idom;
    struct mem *mem = mem_object_mem(v[P_MEMORY].ref.obj);
    struct dev_object *o;
    struct os_dma_cfg oc;
    struct dma_engine_cfg ec;
    struct pcie_link_cfg lc;
    struct traffic_cfg tc;
    struct iommu *mmu = NULL;
    unsigned rid = (unsigned)v[P_REQUESTER_ID].i;
    unsigned dom = v[P_DOMAIN].i < 0 ? rid : (unsigned)v[P_DOMAIN].i;
    uint32_t ns = v[P_PKT_SIZES].list.n;
    int r;

    if (!iommu_object_ops_of(iommu_obj) || !mem) {
        snprintf(err, errlen, "%s: not a created %s object", mem ? "iommu" : "memory",
                 mem ? "IOMMU" : "Memory");
        return SIM_EINVAL;
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    obj->priv = o;

    memset(&oc, 0, sizeof(oc));
    oc.policy = (enum os_dma_policy)v[P_POLICY].e;
    oc.cpus = (unsigned)v[P_CPUS].i;
    oc.dma_bits = (unsigned)v[P_DMA_BITS].i;
    oc.map_cost = v[P_MAP_COST].lat.value;
    oc.unmap_cost = v[P_UNMAP_COST].lat.value;
    oc.inval_submit = v[P_INVAL_SUBMIT].lat.value;
    oc.inval_wait = v[P_INVAL_WAIT].lat.value;
    oc.fq_size = (unsigned)v[P_FQ_SIZE].i;
    oc.fq_timeout = v[P_FQ_TIMEOUT].lat.value;
    oc.path = obj->path;
    r = iommu_object_domain(iommu_obj, dom, &idom, err, errlen);
    if (r)
        goto fail;
    r = os_dma_init(&o->os, &w->sim, idom, &oc, err, errlen);
    if (r)
        goto fail;
    o->os_init = true;
    /* A model that only checks (IOMMU_DOMAIN_IDENTITY, a TrustZone MPC) sees
       every request of a device whose buffers are addressed physically. */
    if ((idom->flags & IOMMU_DOMAIN_IDENTITY) && oc.policy != OS_DMA_PASSTHROUGH) {
        snprintf(err, errlen, "policy: %s does not translate, so devices behind it use "
                 "physical addresses (got %s, expected passthrough)", iommu_obj->path,
                 os_dma_policy_names[oc.policy]);
        r = SIM_EINVAL;
        goto fail;
    }
    if (os_dma_translates(&o->os) || (idom->flags & IOMMU_DOMAIN_IDENTITY)) {
        r = iommu_object_attach(iommu_obj, rid, dom, &mmu, err, errlen);
        if (r)
            goto fail;
    }

    /* An assigned device: the driver maps into its domain on the virtual
     * IOMMU (above), the device's requests are translated by the host. */
    if (v[P_HOST_IOMMU].ref.obj) {
        r = iommu_object_attach(v[P_HOST_IOMMU].ref.obj, rid, (unsigned)v[P_HOST_DOMAIN].i,
                                &mmu, err, errlen);
        if (r)
            goto fail;
    }

    memset(&ec, 0, sizeof(ec));
    ec.tags = (unsigned)v[P_TAGS].i;
    ec.max_payload = (uint32_t)v[P_MAX_PAYLOAD].u;
    ec.requester_id = rid;
    ec.has_pasid = v[P_PASID].i >= 0;
    ec.pasid = ec.has_pasid ? (uint32_t)v[P_PASID].i : 0;
    ec.ats_entries = (unsigned)v[P_ATS_ENTRIES].i;
    ec.ats_ways = (unsigned)v[P_ATS_WAYS].i;
    ec.ats_hit_latency = v[P_ATS_HIT_LATENCY].lat.value;
    ec.ats_inval_latency = v[P_ATS_INVAL_LATENCY].lat.value;
    ec.secure = v[P_SECURE].b;
    lc.gen = (unsigned)v[P_PCIE_GEN].i;
    lc.lanes = (unsigned)v[P_LANES].i;
    lc.tlp_overhead = (uint32_t)v[P_TLP_OVERHEAD].u;
    lc.latency = v[P_LINK_LATENCY].lat.value;
    r = dma_engine_init(&o->eng, &w->sim, &ec, &lc, mmu, mem, obj->path, err, errlen);
    if (r)
        goto fail;
    o->eng_init = true;
    if (v[P_DEVTLB].ref.obj && mmu) {
        struct vhost_iotlb *vh = vhost_iotlb_from_object(v[P_DEVTLB].ref.obj);

        if (!vh || vh->c.mmu != mmu) {
            snprintf(err, errlen, "devtlb: %s caches another address space (expected the "
                     "VhostIotlb's iommu and requester_id to be this device's)",
                     v[P_DEVTLB].ref.obj->path);
            r = SIM_EINVAL;
            goto fail;
        }
        dma_engine_set_translator(&o->eng, devtlb_translate, vh);
    }

    o->pkt_sizes = calloc(ns, sizeof(double));
    o->pkt_weights = calloc(ns, sizeof(double));
    if (!o->pkt_sizes || !o->pkt_weights) {
        r = SIM_ENOMEM;
        goto fail;
    }
    for (uint32_t i = 0; i < ns; i++) {
        o->pkt_sizes[i] = (double)v[P_PKT_SIZES].list.items[i].u;
        o->pkt_weights[i] = v[P_PKT_WEIGHTS].list.n ? v[P_PKT_WEIGHTS].list.items[i].f : 1.0;
    }
    memset(&tc, 0, sizeof(tc));
    tc.issue = (enum traffic_issue)v[P_ISSUE].e;
    tc.poisson = v[P_ARRIVALS].e == 1;
    tc.rate = v[P_RATE].u / 8;
    tc.size = (uint32_t)v[P_SIZE].u;
    tc.footprint = v[P_FOOTPRINT].u;
    tc.stride = v[P_STRIDE].u;
    tc.zipf_s = v[P_ZIPF_S].f;
    tc.write_ratio = v[P_WRITE_RATIO].f;
    tc.slots = (unsigned)v[P_SLOTS].i;
    tc.buf_pa = v[P_BUF_BASE].u;
    tc.nic_tx = v[P_NIC_DIRECTION].e == 1;
    tc.line_rate = v[P_LINE_RATE].u;
    tc.ring = (unsigned)v[P_RING].i;
    tc.buf_size = (uint32_t)v[P_BUF_SIZE].u;
    tc.desc_size = (uint32_t)v[P_DESC_SIZE].u;
    tc.pkt_sizes = o->pkt_sizes;
    tc.pkt_weights = o->pkt_weights;
    tc.npkt = ns;
    tc.media_latency = v[P_MEDIA_LATENCY].lat.value;
    tc.page_size = v[P_PAGE_SIZE].u;
    tc.seed = w->seed;
    tc.path = obj->path;
    r = traffic_create(&o->traffic, traffic_patterns[v[P_PATTERN].e], &tc, &w->sim, &o->eng,
                       &o->os, err, errlen);
    if (r)
        goto fail;
    o->traffic_init = true;
    return 0;

fail:
    strip_path(obj, err);
    dev_destroy(obj);
    return r;
}

static int dev_connect(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct dev_object *o = obj->priv;

    int r;

    (void)w;
    r = traffic_start(&o->traffic, err, errlen);
    if (r)
        strip_path(obj, err);
    return r;
}

static void dev_reset_stats(struct sim_object *obj)
{
    struct dev_object *o = obj->priv;

    dma_engine_reset_stats(&o->eng);
    traffic_reset_stats(&o->traffic);
    os_dma_reset_stats(&o->os);
}

static double dev_read(const struct sim_object *obj, unsigned idx)
{
    struct dev_object *o = obj->priv;
    const struct dma_engine_stats *e = &o->eng.st;
    const struct traffic_stats *t = &o->traffic.st;
    const struct os_dma_stats *s = &o->os.st;
    const struct lathist *pl;

    dma_engine_sync(&o->eng);       /* posted writes done by now are counted */
    switch (idx) {
    case R_THROUGHPUT:      return traffic_throughput_bps(&o->traffic);
    case R_OFFERED:         return (double)t->offered;
    case R_DROPPED:         return (double)t->dropped;
    case R_COMPLETED:       return (double)t->completed;
    case R_ERRORS:          return (double)t->errors;
    case R_READ_BYTES:      return (double)e->bytes[DMA_READ];
    case R_WRITE_BYTES:     return (double)e->bytes[DMA_WRITE];
    case R_READ_REQUESTS:   return (double)e->requests[DMA_READ];
    case R_WRITE_REQUESTS:  return (double)e->requests[DMA_WRITE];
    case R_FAULTS:          return (double)e->faults;
    case R_REQ_LAT_MEAN:    return lathist_mean(&e->req_lat);
    case R_REQ_LAT_P99:     return lathist_percentile(&e->req_lat, 0.99);
    case R_XLATE_LAT_MEAN:  return lathist_mean(&e->xlate_lat);
    case R_XLATE_LAT_P50:   return lathist_percentile(&e->xlate_lat, 0.50);
    case R_XLATE_LAT_P99:   return lathist_percentile(&e->xlate_lat, 0.99);
    case R_XLATE_STALL:     return e->xlate_ticks;
    case R_PKT_LAT_P99:
        pl = traffic_nic_packet_latency(&o->traffic);
        return pl ? lathist_percentile(pl, 0.99) : 0.0;
    case R_CMD_LAT_P99:
        pl = traffic_nvme_command_latency(&o->traffic);
        return pl ? lathist_percentile(pl, 0.99) : 0.0;
    case R_LINK_UP_UTIL:    return pcie_link_utilisation(&o->eng.link, PCIE_UP);
    case R_LINK_DOWN_UTIL:  return pcie_link_utilisation(&o->eng.link, PCIE_DOWN);
    case R_ATS_HITS:        return (double)e->ats_hits;
    case R_ATS_MISSES:      return (double)e->ats_misses;
    case R_ATS_INVALIDATIONS: return (double)o->eng.atc.st.invalidations;
    case R_MAPS:            return (double)s->maps;
    case R_UNMAPS:          return (double)s->unmaps;
    case R_INVALIDATIONS:   return (double)s->invalidations;
    case R_FLUSHES_FULL:    return (double)s->flushes_full;
    case R_FLUSHES_TIMEOUT: return (double)s->flushes_timeout;
    case R_STALE_MEAN:
        return s->stale_entries ? s->stale_sum / (double)s->stale_entries : 0.0;
    case R_STALE_MAX:       return (double)s->stale_max;
    case R_CPU_UTIL:        return sim_resource_utilisation(&o->os.cpu);
    case R_IOVA_CACHE_HIT_RATE: {
        const struct iova_stats *is = &o->os.iovad.st;
        uint64_t n = is->cache_hits + is->cache_misses;

        return n ? (double)is->cache_hits / (double)n : 0.0;
    }
    default:                return 0.0;
    }
}

static void dev_sync(void *ctx)
{
    dma_engine_sync(ctx);
}

/* The throughput series: a scalar the registry reads once per dump. Not a
 * readout, because reading it starts a new span, and a config's read()
 * must not do that. */
static double dev_interval_bps(const void *ctx, unsigned idx)
{
    struct dev_object *o = (struct dev_object *)ctx;

    (void)idx;
    return dma_engine_interval_bps(&o->eng);
}

/* The event and byte counters by reference (engine, traffic, DMA API);
 * throughput, latencies, percentiles and utilisations through read; the
 * achieved throughput of each dump period (interval_throughput). */
static int dev_register_stats(struct sim_object *obj, void *reg)
{
    struct dev_object *o = obj->priv;
    const struct dma_engine_stats *e = &o->eng.st;
    const struct traffic_stats *t = &o->traffic.st;
    const struct os_dma_stats *s = &o->os.st;
    const struct { unsigned idx; const uint64_t *src; } refs[] = {
        { R_OFFERED, &t->offered }, { R_DROPPED, &t->dropped },
        { R_COMPLETED, &t->completed }, { R_ERRORS, &t->errors },
        { R_READ_BYTES, &e->bytes[DMA_READ] }, { R_WRITE_BYTES, &e->bytes[DMA_WRITE] },
        { R_READ_REQUESTS, &e->requests[DMA_READ] },
        { R_WRITE_REQUESTS, &e->requests[DMA_WRITE] },
        { R_FAULTS, &e->faults }, { R_ATS_HITS, &e->ats_hits },
        { R_ATS_MISSES, &e->ats_misses }, { R_ATS_INVALIDATIONS, &o->eng.atc.st.invalidations },
        { R_MAPS, &s->maps }, { R_UNMAPS, &s->unmaps },
        { R_INVALIDATIONS, &s->invalidations }, { R_FLUSHES_FULL, &s->flushes_full },
        { R_FLUSHES_TIMEOUT, &s->flushes_timeout },
    };
    uint64_t done = 0;
    int rc = 0;

    const struct lathist *pl;

    /* Posted writes are counted lazily (dma_engine.h): before each dump. */
    rc = stats_register_sync(reg, dev_sync, &o->eng);
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && !rc; i++)
        rc = stats_object_readout_counter(reg, obj, refs[i].idx, refs[i].src, &done);
    /* The latency distributions themselves, bins and all (dumps x bins). */
    if (!rc)
        rc = stats_object_lathist(reg, obj, "request_latency", "ps",
                                  "request latency, issue to completion", &e->req_lat);
    if (!rc)
        rc = stats_object_lathist(reg, obj, "translation_latency", "ps",
                                  "translation latency of each request", &e->xlate_lat);
    if (!rc && (pl = traffic_nic_packet_latency(&o->traffic)) != NULL)
        rc = stats_object_lathist(reg, obj, "packet_latency", "ps",
                                  "nic: packet arrival to descriptor write-back", pl);
    if (!rc && (pl = traffic_nvme_command_latency(&o->traffic)) != NULL)
        rc = stats_object_lathist(reg, obj, "command_latency", "ps",
                                  "nvme: command latency, driver map to completion entry", pl);
    if (!rc)
        rc = stats_register_scalar_fn(reg, obj->path, "interval_throughput", "bit/s",
                                      "payload of requests completed since the previous "
                                      "dump (or reset) per second of that period: the "
                                      "achieved-throughput time series", dev_interval_bps,
                                      o, 0);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops dev_ops = {
    .validate = dev_validate,
    .create = dev_create,
    .connect = dev_connect,
    .destroy = dev_destroy,
    .reset_stats = dev_reset_stats,
    .read = dev_read,
    .register_stats = dev_register_stats,
};

const struct sim_model dev_model_dma_device = {
    .name = "DmaDevice",
    .doc = "A DMA device on a PCIe link: a DMA engine (tags, payload-split requests, "
           "translation through its IOMMU (any model), data through a Memory) driven by a "
           "traffic pattern, with the Linux DMA-API mapping policy of its own domain "
           "(IOVA allocator with per-CPU caches; strict, lazy, persistent or passthrough "
           "invalidation, with CPU costs).",
    .params = dev_params, .nparams = sizeof(dev_params) / sizeof(dev_params[0]),
    .readouts = dev_readouts, .nreadouts = sizeof(dev_readouts) / sizeof(dev_readouts[0]),
    .ops = &dev_ops,
};
