/*
 * worldpool.h - a world's independent event sets run on several threads.
 *
 * Event sets (object.h) share no object, so they can run at the same time
 * as well as one after another: each set is still run by one thread at a
 * time, in its own (tick, priority, FIFO) order, so every statistic is the
 * same bit for bit whatever the thread count (tests/cli/test_event_sets.sh
 * compares). The pool is N - 1 worker threads plus the calling thread; a
 * run hands out whole sets, the next free thread taking the next set not
 * yet run, in slices of `slice` events. Between its own slices, and every
 * `poll_ms` while it waits for the others, the calling thread calls `poll`
 * (Ctrl-C, progress); a non-zero answer stops every thread at its next
 * slice, and a later run resumes each set where it stopped.
 *
 * Cost: a run wakes the workers (a condition variable) and joins them (one
 * mutex round per set and per thread): tens of microseconds, so a window
 * between two dumps should hold thousands of events to gain anything.
 * Nothing here is on the per-event path. Only the world's sets are touched
 * by the threads; the caller must not touch the world during a run.
 */
#ifndef SIM_WORLDPOOL_H
#define SIM_WORLDPOOL_H

#include <stdint.h>

#include "engine/object.h"

struct sim_world_pool;

/* poll: called on the calling thread; non-zero stops the run. */
typedef int (*sim_world_poll_fn)(void *ctx);

/*
 * Start threads - 1 workers for w (threads >= 2). Returns 0, SIM_EINVAL,
 * or SIM_ENOMEM / SIM_EIO when a thread cannot be made.
 */
int sim_world_pool_start(struct sim_world_pool **pool, struct sim_world *w, unsigned threads);

/* Stop and join the workers (between runs). NULL is fine. */
void sim_world_pool_stop(struct sim_world_pool *pool);

/*
 * Run every set of the pool's world up to the key (limit, order_bound), as
 * sim_world_run() does without a cap. The cause is SIM_EXIT_STOP if a set
 * called sim_stop() (the first such set's reason) or if poll stopped the
 * run (reason "polled"), SIM_EXIT_EMPTY if every set is empty afterwards,
 * else SIM_EXIT_LIMIT; events counts every set's; the tick is the world's.
 */
struct sim_exit sim_world_pool_run(struct sim_world_pool *pool, sim_tick_t limit,
                                   uint64_t order_bound, uint64_t slice,
                                   sim_world_poll_fn poll, void *ctx, unsigned poll_ms);

/*
 * While a run is on (from poll): the events processed so far in it and the
 * mean time of the sets (each set's time as of its last finished slice).
 */
uint64_t sim_world_pool_progress(struct sim_world_pool *pool, sim_tick_t *mean_tick);

#endif /* SIM_WORLDPOOL_H */
