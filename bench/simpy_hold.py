#!/usr/bin/python3
"""simpy_hold.py - the hold model in SimPy 3, a benchmark peer for bench_hold.c.

Same model as bench_hold.c (the engine) and ns3_hold.cc (ns-3): N events
pending; each processed event schedules one new event at now + Exp(mean 1e6)
(MEAN_TICKS in bench_hold.c: 1 us in ps). The pending count stays N, so the
cost per event is SimPy's event-set cost at size N plus its per-event
interpreter overhead.

Formulation. The default ("callback") is the lowest-overhead way a SimPy user
can express the model with the public API: every pending event is a
simpy.Timeout, and its callback creates the next Timeout and appends itself
to that Timeout's callbacks. Each event still goes through SimPy's own path
(Environment.schedule -> heapq of (time, priority, eid, event) -> step ->
callbacks), so this measures SimPy's event set, not a shortcut around it.
The idiomatic "one process per pending event, `yield env.timeout(d)` in a
loop" form ("--style process", reported as simpy-proc) adds a generator resume
and a Process/Initialize machinery per event: it is about 2x slower and takes
about twice the memory (about 0.9 GB at N = 10^6), so the comparison
with the engine uses the faster, callback form.

Increments are random.Random(1).expovariate(1 / MEAN), float times as SimPy
users have them. Warm-up as in bench_hold.c: min(N, events) events before the
timed run. Event counts: 10^6 timed events at N < 10^6, but only 2 * 10^5 at
N >= 10^6 (populating 10^6 SimPy events alone takes seconds; the rate is
stable well before 2e5 events); --quick uses 2 * 10^4 events at every N.

Each measurement runs in a fresh interpreter (subprocess), so its peak RSS
(resource.getrusage ru_maxrss) is its own; the best of R repetitions is kept.

Output, one line per N, in bench_hold.c's format:
    hold N=10000 simpy     events/s=5.1e+05 peak_rss_kib=15000

Run with Debian's /usr/bin/python3 (python3-simpy3 3.0.11).
"""

import argparse
import random
import resource
import subprocess
import sys
import time

MEAN = 1e6          # MEAN_TICKS in bench_hold.c


def hold_callback(simpy, n, ops, seed=1):
    """Timeouts with callbacks. Return (events processed, seconds)."""
    env = simpy.Environment()
    expo = random.Random(seed).expovariate
    lam = 1.0 / MEAN
    timeout = env.timeout
    state = {'left': 0, 'done': 0, 'stop': None}

    def cb(_event):
        timeout(expo(lam)).callbacks.append(cb)
        state['done'] += 1
        state['left'] -= 1
        if state['left'] == 0:
            state['stop'].succeed()

    for _ in range(n):
        timeout(expo(lam)).callbacks.append(cb)
    return run_phases(env, state, n, ops)


def hold_process(simpy, n, ops, seed=1):
    """One process per pending event. Return (events processed, seconds)."""
    env = simpy.Environment()
    expo = random.Random(seed).expovariate
    lam = 1.0 / MEAN
    timeout = env.timeout
    state = {'left': 0, 'done': 0, 'stop': None}

    def proc():
        while True:
            yield timeout(expo(lam))
            state['done'] += 1
            state['left'] -= 1
            if state['left'] == 0:
                state['stop'].succeed()

    for _ in range(n):
        env.process(proc())
    return run_phases(env, state, n, ops)


def run_phases(env, state, n, ops):
    """Warm up with min(n, ops) events, then time ops events."""
    for count in (min(n, ops), ops):
        state['left'] = count
        state['stop'] = env.event()
        done0 = state['done']
        t0 = time.perf_counter()
        env.run(until=state['stop'])
        t1 = time.perf_counter()
    return state['done'] - done0, t1 - t0


def child(style, n, ops):
    """Measure once in this (fresh) process; print 'events/s peak_rss_kib'."""
    import simpy
    fn = hold_callback if style == 'callback' else hold_process
    done, secs = fn(simpy, n, ops)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    print('%r %d' % (done / secs, rss))


def main():
    ap = argparse.ArgumentParser(
        description='hold-model events/s and peak RSS in SimPy 3')
    ap.add_argument('--quick', action='store_true', help='fewer events')
    ap.add_argument('--reps', type=int, default=3,
                    help='repetitions per N, best kept (default 3)')
    ap.add_argument('--style', choices=('callback', 'process'),
                    default='callback', help='SimPy formulation (default callback)')
    ap.add_argument('--child', nargs=3, metavar=('STYLE', 'N', 'OPS'),
                    help=argparse.SUPPRESS)
    ap.add_argument('sizes', nargs='*', type=int, metavar='N',
                    help='pending-event counts (default 100 10000 1000000)')
    args = ap.parse_args()

    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return 0
    try:
        import simpy   # noqa: F401 -- fail early with a clear message
    except ImportError:
        print('simpy_hold.py: SimPy is not importable by %s '
              '(install Debian python3-simpy3, run with /usr/bin/python3)'
              % sys.executable, file=sys.stderr)
        return 1
    if any(n < 1 for n in args.sizes):
        ap.error('N must be a positive integer')
    sizes = args.sizes or [100, 10000, 1000000]
    label = 'simpy' if args.style == 'callback' else 'simpy-proc'
    for n in sizes:
        if args.quick:
            ops = 20000
        else:
            ops = 200000 if n >= 1000000 else 1000000
        best = (0.0, 0)
        for _ in range(max(1, args.reps)):
            r = subprocess.run([sys.executable, __file__, '--child', args.style,
                                str(n), str(ops)],
                               stdout=subprocess.PIPE, text=True, check=False)
            if r.returncode != 0:
                print('simpy_hold.py: N=%d: measurement failed (exit %d)'
                      % (n, r.returncode), file=sys.stderr)
                return 1
            rate, rss = r.stdout.split()
            if float(rate) > best[0]:
                best = (float(rate), int(rss))
        print('hold N=%d %-9s events/s=%.4g peak_rss_kib=%d'
              % (n, label, best[0], best[1]), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
