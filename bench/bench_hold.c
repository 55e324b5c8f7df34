/*
 * bench_hold.c - the classic hold model on the engine and on a plain heap.
 *
 * Hold model (Vaucher and Duval, CACM 1975; the standard pending-event-set
 * benchmark): N events pending; each processed event schedules one new event
 * at now + Exp(mean). The pending count stays N, so the cost per event is the
 * event set's cost at size N.
 *
 *   engine     the real engine: sim_run() with intrusive events whose callback
 *              reschedules its own event (struct sim_event, ladder queue);
 *   reference  a minimal array binary heap of {time, seq, pointer} with none of
 *              the engine's features (no deschedule, no priorities, no
 *              caller-owned intrusive events): the baseline a hand-written
 *              simulator would use. It calls a handler through the popped
 *              pointer, since a simulator must run the event it pops.
 *
 * Both draw the same increments from the same generator. Each measurement
 * runs in a forked child so its peak RSS is its own; children run one after
 * another, interleaved engine/reference, and the best of R repetitions is
 * kept (the usual way to take noise out of a throughput figure).
 *
 * Output: one line per (N, implementation) and a ratio line per N, as
 *   hold N=1000000 engine     events/s=...  peak_rss_kib=...
 *   ratio N=1000000 engine/reference=2.41
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/rng.h"
#include "engine/sim.h"

#define MEAN_TICKS 1000000.0        /* 1 us mean increment, in ps */

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline sim_tick_t draw(struct sim_rng *r)
{
    return (sim_tick_t)sim_rng_exponential(r, MEAN_TICKS);
}

/* --- Engine --------------------------------------------------------------- */

struct hold_ctx {
    struct sim sim;
    struct sim_rng rng;
    uint64_t remaining;
};

static void hold_cb(struct sim_event *ev, void *arg)
{
    struct hold_ctx *c = arg;

    if (--c->remaining == 0)
        sim_stop(&c->sim, "done");
    sim_event_schedule_in(&c->sim, ev, draw(&c->rng));
}

static double run_engine(size_t n, uint64_t ops)
{
    struct hold_ctx *c = calloc(1, sizeof(*c));
    struct sim_event *ev = calloc(n, sizeof(*ev));
    double t0, t1;

    if (!c || !ev)
        return -1;
    sim_init(&c->sim);
    sim_rng_seed(&c->rng, 1, "bench.hold");
    for (size_t i = 0; i < n; i++) {
        sim_event_init(&ev[i], hold_cb, c, SIM_PRIO_DEFAULT);
        sim_event_schedule(&c->sim, &ev[i], draw(&c->rng));
    }
    /* warm up: one pass over the population settles the structure */
    c->remaining = n < ops ? n : ops;
    sim_run(&c->sim);
    c->remaining = ops;
    t0 = now_s();
    sim_run(&c->sim);
    t1 = now_s();
    sim_destroy(&c->sim);
    free(ev);
    free(c);
    return (double)ops / (t1 - t0);
}

/* --- Reference: plain binary heap of {time, seq, pointer} ---------------- */

struct ref_item {
    uint64_t time;
    uint64_t seq;
    void *ptr;
};

struct ref_heap {
    struct ref_item *a;
    size_t n;
};

static inline int ref_less(const struct ref_item *x, const struct ref_item *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static inline void ref_push(struct ref_heap *h, struct ref_item it)
{
    size_t i = h->n++;

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!ref_less(&it, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = it;
}

static inline struct ref_item ref_pop(struct ref_heap *h)
{
    struct ref_item top = h->a[0], last = h->a[--h->n];
    size_t i = 0, n = h->n;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= n)
            break;
        if (c + 1 < n && ref_less(&h->a[c + 1], &h->a[c]))
            c++;
        if (!ref_less(&h->a[c], &last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (n)
        h->a[i] = last;
    return top;
}

/*
 * The reference's events: what its pointer points to. A simulator has to run
 * the event it pops, so the reference calls a handler through the pointer,
 * as the engine does; the handler counts its runs. 16 bytes per event, a third
 * of the engine's 48-byte struct sim_event.
 */
struct ref_event {
    void (*handler)(struct ref_event *e);
    uint64_t runs;
};

static void ref_handler(struct ref_event *e)
{
    e->runs++;
}

static double run_reference(size_t n, uint64_t ops)
{
    struct ref_heap h = { calloc(n + 1, sizeof(struct ref_item)), 0 };
    struct ref_event *ev = calloc(n, sizeof(*ev));
    struct sim_rng rng;
    uint64_t seq = 0, now = 0;
    uint64_t warm = n < ops ? n : ops;
    double t0, t1;

    if (!h.a || !ev)
        return -1;
    sim_rng_seed(&rng, 1, "bench.hold");
    for (size_t i = 0; i < n; i++) {
        ev[i].handler = ref_handler;
        ref_push(&h, (struct ref_item){ draw(&rng), seq++, &ev[i] });
    }
    for (uint64_t k = 0; k < warm; k++) {
        struct ref_item it = ref_pop(&h);

        now = it.time;
        ref_push(&h, (struct ref_item){ now + draw(&rng), seq++, it.ptr });
    }
    t0 = now_s();
    for (uint64_t k = 0; k < ops; k++) {
        struct ref_item it = ref_pop(&h);
        struct ref_event *e = it.ptr;

        now = it.time;
        e->handler(e);
        ref_push(&h, (struct ref_item){ now + draw(&rng), seq++, e });
    }
    t1 = now_s();
    free(h.a);
    free(ev);
    return (double)ops / (t1 - t0);
}

/* --- Driver ----------------------------------------------------------------- */

struct result {
    double events_per_s;
    long peak_rss_kib;
};

static int measure(int engine, size_t n, uint64_t ops, struct result *out)
{
    int fd[2];
    pid_t pid;
    int status;

    if (pipe(fd) != 0)
        return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct result r;
        struct rusage ru;

        close(fd[0]);
        r.events_per_s = engine ? run_engine(n, ops) : run_reference(n, ops);
        getrusage(RUSAGE_SELF, &ru);
        r.peak_rss_kib = ru.ru_maxrss;
        if (write(fd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], out, sizeof(*out)) != (ssize_t)sizeof(*out))
        out->events_per_s = -1;
    close(fd[0]);
    waitpid(pid, &status, 0);
    return out->events_per_s > 0 ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_hold [--quick] [--reps R] [N ...]\n"
               "       bench_hold --only engine|reference --events M N\n"
               "  hold-model events/s and peak RSS, engine vs a plain binary heap\n"
               "  default sizes 100 10000 1000000; --quick uses fewer events\n"
               "  --only runs one implementation in this process, M timed events,\n"
               "  for profilers (cachegrind: diff two values of M for per-event costs)\n");
}

int main(int argc, char **argv)
{
    size_t sizes[16];
    int nsizes = 0, reps = 3, quick = 0, only = -1;
    uint64_t only_events = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "engine") == 0) {
                only = 1;
            } else if (strcmp(argv[i], "reference") == 0) {
                only = 0;
            } else {
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            only_events = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            char *end;
            unsigned long long v = strtoull(argv[i], &end, 10);

            if (*end || v == 0 || nsizes == 16) {
                usage(stderr);
                return 2;
            }
            sizes[nsizes++] = (size_t)v;
        }
    }
    if (reps < 1)
        reps = 1;
    if (only >= 0) {
        double rate;

        if (nsizes != 1 || only_events == 0) {
            usage(stderr);
            return 2;
        }
        rate = only ? run_engine(sizes[0], only_events)
                    : run_reference(sizes[0], only_events);
        if (rate <= 0)
            return 1;
        printf("hold N=%zu %s events/s=%.4g (one run, in process)\n", sizes[0],
               only ? "engine" : "reference", rate);
        return 0;
    }
    if (nsizes == 0) {
        sizes[nsizes++] = 100;
        sizes[nsizes++] = 10000;
        sizes[nsizes++] = 1000000;
    }
    for (int s = 0; s < nsizes; s++) {
        size_t n = sizes[s];
        uint64_t ops = quick ? 200000 : (n >= 1000000 ? 10 * (uint64_t)n : 5000000);
        struct result best[2] = { { 0, 0 }, { 0, 0 } };

        for (int r = 0; r < reps; r++) {
            for (int e = 1; e >= 0; e--) {
                struct result res;

                if (measure(e, n, ops, &res) != 0) {
                    fprintf(stderr, "bench_hold: N=%zu: measurement failed\n", n);
                    return 1;
                }
                if (res.events_per_s > best[e].events_per_s)
                    best[e] = res;
            }
        }
        printf("hold N=%zu engine    events/s=%.4g peak_rss_kib=%ld\n", n,
               best[1].events_per_s, best[1].peak_rss_kib);
        printf("hold N=%zu reference events/s=%.4g peak_rss_kib=%ld\n", n,
               best[0].events_per_s, best[0].peak_rss_kib);
        printf("ratio N=%zu engine/reference=%.2f\n", n,
               best[1].events_per_s / best[0].events_per_s);
        fflush(stdout);
    }
    return 0;
}
