/*
 * ns3_hold.cc - the hold model on ns-3's simulator core, a benchmark peer
 * for bench_hold.c (the engine) and simpy_hold.py (SimPy).
 *
 * Same model as bench_hold.c: N events pending; each processed event
 * schedules one new event at now + Exp(mean 1e6 ps). The events are what an
 * ns-3 user writes: Simulator::Schedule(delay, &function) of a plain static
 * function. ns-3 allocates one EventImpl per Schedule (MakeEvent) and frees
 * it after it runs; that cost is part of ns-3's event set and is measured.
 *
 * Time resolution is set to picoseconds (Time::SetResolution(Time::PS)) so
 * delays are the same integer ticks as the engine's, passed as TimeStep().
 * Increments come from a local xoshiro256** (Blackman and Vigna) and
 * -mean * log(1 - u), the same recipe as the engine's sim_rng_exponential,
 * so the generator costs the same on both sides.
 *
 * Schedulers (selected with Simulator::SetScheduler(ObjectFactory), the
 * ns-3 3.37 way; equivalent to --SchedulerType on an ns-3 command line):
 *   ns3-map   ns3::MapScheduler, the default (std::map, a red-black tree);
 *   ns3-heap  ns3::HeapScheduler (binary heap of pointers).
 * CalendarScheduler is not offered: with 10^6 pending events it is
 * pathologically slow (see /work/shared/NOTES.md).
 *
 * Each measurement runs in a forked child (the parent never touches the
 * simulator), so peak RSS is its own and every run starts from an empty
 * simulator; the best of R repetitions is kept, as in bench_hold.c.
 *
 * Output, one line per (N, scheduler):
 *   hold N=10000 ns3-map   events/s=2.1e+06 peak_rss_kib=9000
 *
 * Build (Debian 12, libns3-dev 3.37; pkg-config ns3-core is broken there):
 *   g++ -O2 -std=c++17 -I/usr/include ns3_hold.cc -lns3-core
 */
#include <ns3/core-module.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace
{

const double MEAN_TICKS = 1000000.0; /* 1 us in ps, as bench_hold.c */

/* xoshiro256**, seeded through splitmix64. */
struct Rng
{
    uint64_t s[4];

    explicit Rng(uint64_t seed)
    {
        for (auto& w : s)
        {
            uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            w = z ^ (z >> 31);
        }
    }

    static uint64_t Rotl(uint64_t x, int k)
    {
        return (x << k) | (x >> (64 - k));
    }

    uint64_t Next()
    {
        uint64_t r = Rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = Rotl(s[3], 45);
        return r;
    }

    uint64_t Exp()
    {
        double u = (double)(Next() >> 11) * 0x1.0p-53;

        return (uint64_t)(-MEAN_TICKS * std::log(1.0 - u));
    }
};

Rng g_rng(1);
uint64_t g_remaining;

void
Hold()
{
    if (--g_remaining == 0)
        ns3::Simulator::Stop();
    ns3::Simulator::Schedule(ns3::TimeStep(g_rng.Exp()), &Hold);
}

double
NowS()
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double
RunHold(const char* scheduler, size_t n, uint64_t ops)
{
    ns3::ObjectFactory factory;
    double t0, t1;

    ns3::Time::SetResolution(ns3::Time::PS);
    factory.SetTypeId(scheduler);
    ns3::Simulator::SetScheduler(factory);
    for (size_t i = 0; i < n; i++)
        ns3::Simulator::Schedule(ns3::TimeStep(g_rng.Exp()), &Hold);
    /* warm up: one pass over the population settles the structure */
    g_remaining = n < ops ? n : ops;
    ns3::Simulator::Run();
    g_remaining = ops;
    t0 = NowS();
    ns3::Simulator::Run();
    t1 = NowS();
    /* Destroy() frees the N pending events; not timed. */
    ns3::Simulator::Destroy();
    return (double)ops / (t1 - t0);
}

struct Result
{
    double events_per_s;
    long peak_rss_kib;
};

int
Measure(const char* scheduler, size_t n, uint64_t ops, Result* out)
{
    int fd[2];
    pid_t pid;
    int status;

    if (pipe(fd) != 0)
        return -1;
    fflush(nullptr);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
    {
        Result r;
        struct rusage ru;

        close(fd[0]);
        r.events_per_s = RunHold(scheduler, n, ops);
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

void
Usage(FILE* f)
{
    fprintf(f,
            "usage: ns3_hold [--quick] [--reps R] [--scheduler map|heap] [N ...]\n"
            "  hold-model events/s and peak RSS on ns-3 (MapScheduler, HeapScheduler)\n"
            "  default sizes 100 10000 1000000, both schedulers; --quick uses fewer events\n");
}

} // namespace

int
main(int argc, char** argv)
{
    struct Sched
    {
        const char* label;
        const char* type;
    };
    const Sched all[] = {{"ns3-map", "ns3::MapScheduler"}, {"ns3-heap", "ns3::HeapScheduler"}};
    std::vector<Sched> scheds;
    std::vector<size_t> sizes;
    int reps = 3, quick = 0;

    for (int i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scheduler") == 0 && i + 1 < argc)
        {
            std::string s = argv[++i];

            if (s == "map")
                scheds.push_back(all[0]);
            else if (s == "heap")
                scheds.push_back(all[1]);
            else
            {
                fprintf(stderr, "ns3_hold: --scheduler: expected map or heap (got '%s')\n",
                        s.c_str());
                return 2;
            }
        }
        else if (strcmp(argv[i], "--help") == 0)
        {
            Usage(stdout);
            return 0;
        }
        else
        {
            char* end;
            unsigned long long v = strtoull(argv[i], &end, 10);

            if (*end || v == 0)
            {
                Usage(stderr);
                return 2;
            }
            sizes.push_back((size_t)v);
        }
    }
    if (reps < 1)
        reps = 1;
    if (scheds.empty())
        scheds.assign(all, all + 2);
    if (sizes.empty())
        sizes = {100, 10000, 1000000};
    for (size_t n : sizes)
    {
        /* Same event counts as bench_hold.c. */
        uint64_t ops = quick ? 200000 : (n >= 1000000 ? 10 * (uint64_t)n : 5000000);

        for (const Sched& s : scheds)
        {
            Result best = {0, 0};

            for (int r = 0; r < reps; r++)
            {
                Result res;

                if (Measure(s.type, n, ops, &res) != 0)
                {
                    fprintf(stderr, "ns3_hold: N=%zu %s: measurement failed\n", n, s.label);
                    return 1;
                }
                if (res.events_per_s > best.events_per_s)
                    best = res;
            }
            printf("hold N=%zu %-9s events/s=%.4g peak_rss_kib=%ld\n", n, s.label,
                   best.events_per_s, best.peak_rss_kib);
            fflush(stdout);
        }
    }
    return 0;
}
