/*
 * py.h - running a Python config in the embedded interpreter.
 *
 * The CLI (cli/run.c) parses the command line into struct py_opts and calls
 * py_run_config(); everything Python lives behind this call. The interpreter
 * runs in an isolated configuration (no PYTHON* environment variables, no
 * user site directory) that still imports Debian's dist-packages, so a
 * config may use numpy or h5py.
 */
#ifndef PY_PY_H
#define PY_PY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct py_opts {
    const char *config;             /* the config script */
    int argc;                       /* the config's own arguments */
    char **argv;
    const char *outdir;             /* default "iommusim-out" */
    uint64_t seed;
    const char **sets;              /* "PATH.PARAM=VALUE", nsets of them */
    size_t nsets;
    bool dump_config;
    int verbosity;                  /* 0 quiet, 1 normal, 2 verbose */
    bool progress;
    bool one_event_set;             /* --one-event-set: no independent event sets */
    unsigned threads;               /* --threads N for the event sets; 0: the CPUs */
    uint64_t stats_period;          /* --stats-period in ticks; 0: none given */
    bool stats_period_set;          /* --stats-period given (0 turns dumps off) */
    int cmd_argc;                   /* the whole command line, for stats.h5 */
    char **cmd_argv;
};

/* Run the config; returns the process exit code (0, 1, 2 or 130). */
int py_run_config(const struct py_opts *opts);

/* The directory holding the `iommusim` package, found as py.c explains. */
const char *py_package_dir(void);

/* Internal, between py.c and module.c (which need no Python.h here). */
void py_module_set_opts(const struct py_opts *opts);
void py_module_shutdown(void);

#endif /* PY_PY_H */
