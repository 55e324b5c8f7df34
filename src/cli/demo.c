/*
 * demo.c - `iommusim demo`: the engine at work on a queue whose answer is
 * known in closed form.
 *
 * A Poisson stream of DMA requests (mean gap 1/lambda) meets one translation
 * unit with a fixed service time D: an M/D/1 queue. Pollaczek-Khinchine gives
 * the mean wait Wq = rho * D / (2 (1 - rho)), rho = lambda * D. The demo runs
 * it, prints what it scheduled and ran, and sets measurement beside theory.
 * Everything is caller-owned: a fixed pool of requests, a ring as the FIFO,
 * two events per request; nothing is allocated while simulating.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/error.h"
#include "engine/rng.h"
#include "engine/sim.h"

#define DEMO_POOL 4096

struct demo_req {
    struct sim_event done;
    struct demo *demo;
    sim_tick_t arrived;
};

struct demo {
    struct sim sim;
    struct sim_rng rng;
    struct sim_event arrival;
    double gap_mean;            /* ticks */
    sim_tick_t service;         /* ticks */
    struct demo_req pool[DEMO_POOL];
    struct demo_req *free_list[DEMO_POOL];
    int nfree;
    struct demo_req *fifo[DEMO_POOL];   /* waiting, head first */
    int head, len;
    int busy;
    uint64_t arrivals, served, dropped;
    double wait_sum;            /* ticks */
    sim_tick_t busy_since, busy_ticks;
};

static void demo_start_service(struct demo *d, struct demo_req *r)
{
    d->busy = 1;
    d->busy_since = sim_now(&d->sim);
    d->wait_sum += (double)(sim_now(&d->sim) - r->arrived);
    sim_event_schedule_in(&d->sim, &r->done, d->service);
}

static void demo_done_cb(struct sim_event *ev, void *arg)
{
    struct demo_req *r = arg;
    struct demo *d = r->demo;

    (void)ev;
    d->served++;
    d->busy = 0;
    d->busy_ticks += sim_now(&d->sim) - d->busy_since;
    d->free_list[d->nfree++] = r;
    if (d->len) {
        struct demo_req *next = d->fifo[d->head];

        d->head = (d->head + 1) % DEMO_POOL;
        d->len--;
        demo_start_service(d, next);
    }
}

static void demo_arrival_cb(struct sim_event *ev, void *arg)
{
    struct demo *d = arg;
    sim_tick_t gap = (sim_tick_t)(sim_rng_exponential(&d->rng, d->gap_mean) + 0.5);

    d->arrivals++;
    if (d->nfree == 0) {
        d->dropped++;
    } else {
        struct demo_req *r = d->free_list[--d->nfree];

        r->arrived = sim_now(&d->sim);
        if (!d->busy)
            demo_start_service(d, r);
        else
            d->fifo[(d->head + d->len++) % DEMO_POOL] = r;
    }
    sim_event_schedule_in(&d->sim, ev, gap);
}

static void demo_usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim demo [--gap NS] [--service NS] [--time US] [--seed N]\n"
        "\n"
        "Runs an M/D/1 queue on the event engine (Poisson DMA requests, one\n"
        "translation unit with a fixed service time) and compares the measured\n"
        "mean wait with the Pollaczek-Khinchine formula.\n"
        "\n"
        "  --gap NS      mean gap between requests, ns (default 10)\n"
        "  --service NS  service time, ns (default 8)\n"
        "  --time US     simulated time, us (default 1000)\n"
        "  --seed N      random seed (default 1)\n");
}

static int parse_positive(const char *opt, const char *text, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || v > 1e12) {
        fprintf(stderr, "iommusim demo: %s: expected a positive number (got '%s')\n",
                opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_demo_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "gap", required_argument, NULL, 'g' },
        { "service", required_argument, NULL, 's' },
        { "time", required_argument, NULL, 't' },
        { "seed", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double gap_ns = 10, service_ns = 8, time_us = 1000, seed_d = 1;
    struct demo *d;
    struct sim_exit ex;
    struct timespec t0, t1;
    double rho, wq_theory, wq, host_s;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'g': if (parse_positive("--gap", optarg, &gap_ns)) return 2; break;
        case 's': if (parse_positive("--service", optarg, &service_ns)) return 2; break;
        case 't': if (parse_positive("--time", optarg, &time_us)) return 2; break;
        case 'S': if (parse_positive("--seed", optarg, &seed_d)) return 2; break;
        case 'h': demo_usage(stdout); return 0;
        default: demo_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "iommusim demo: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    rho = service_ns / gap_ns;
    if (rho >= 1.0) {
        fprintf(stderr, "iommusim demo: --service %.3g ns >= --gap %.3g ns: the queue "
                "would grow without bound (utilisation %.2f, expected < 1)\n",
                service_ns, gap_ns, rho);
        return 2;
    }

    d = calloc(1, sizeof(*d));
    if (!d) {
        fprintf(stderr, "iommusim demo: %s\n", sim_strerror(SIM_ENOMEM));
        return 1;
    }
    sim_init(&d->sim);
    sim_rng_seed(&d->rng, (uint64_t)seed_d, "demo.source");
    d->gap_mean = gap_ns * SIM_TICKS_PER_NS;
    d->service = (sim_tick_t)(service_ns * SIM_TICKS_PER_NS + 0.5);
    for (int i = 0; i < DEMO_POOL; i++) {
        d->pool[i].demo = d;
        sim_event_init(&d->pool[i].done, demo_done_cb, &d->pool[i], SIM_PRIO_DEFAULT);
        d->free_list[d->nfree++] = &d->pool[i];
    }
    sim_event_init(&d->arrival, demo_arrival_cb, d, SIM_PRIO_DEFAULT);
    sim_event_schedule(&d->sim, &d->arrival, 0);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ex = sim_run_until(&d->sim, (sim_tick_t)(time_us * SIM_TICKS_PER_US), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    host_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    wq = d->served ? d->wait_sum / (double)(d->served + (uint64_t)d->busy) / SIM_TICKS_PER_NS : 0;
    wq_theory = rho * service_ns / (2.0 * (1.0 - rho));
    printf("iommusim engine demo: M/D/1 translation queue\n");
    printf("  arrivals           %" PRIu64 " requests (mean gap %.3g ns, seed %.0f)\n",
           d->arrivals, gap_ns, seed_d);
    printf("  served             %" PRIu64 " (service %.3g ns), dropped %" PRIu64 "\n",
           d->served, service_ns, d->dropped);
    printf("  events processed   %" PRIu64 " in %.3f s host time (%.3g events/s)\n",
           ex.events, host_s, host_s > 0 ? (double)ex.events / host_s : 0.0);
    printf("  simulated time     %.3f us (exit: %s)\n",
           (double)ex.tick / SIM_TICKS_PER_US, sim_exit_cause_name(ex.cause));
    printf("  utilisation        %.4f (theory %.4f)\n",
           (double)d->busy_ticks / (double)ex.tick, rho);
    printf("  mean wait          %.3f ns (Pollaczek-Khinchine %.3f ns)\n", wq, wq_theory);
    sim_destroy(&d->sim);
    free(d);
    return 0;
}
