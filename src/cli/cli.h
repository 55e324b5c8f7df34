/*
 * cli.h - the iommusim command's sub-commands.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdio.h>

/* `iommusim demo [options]`: an engine demonstration (see demo.c). */
int cli_demo_main(int argc, char **argv);

/* `iommusim [options] CONFIG.py [args]`: run a Python config (see run.c). */
int cli_run_main(int argc, char **argv);

/* `iommusim trace import|info|gen|replay ...`: traces (see trace_cmd.c). */
int cli_trace_main(int argc, char **argv);

/* `iommusim stats show|export ...`: read a stats.h5 (see stats_cmd.c). */
int cli_stats_main(int argc, char **argv);

/* Analysis and sweeps (issue 7): the Python side runs under Debian's python3. */
#define CLI_SYSTEM_PYTHON "/usr/bin/python3"
/* Put the iommusim package first on PYTHONPATH; -1 (message printed) if absent. */
int cli_python_env(const char *who);
/* Replace this process with `python3 -m MODULE argv[1..]`; returns only on error. */
int cli_exec_python_module(const char *who, const char *module, int argc, char **argv);
/* `iommusim compare BASELINE NEW ...` (pymod.c -> python/iommusim/compare.py). */
int cli_compare_main(int argc, char **argv);
/* `iommusim sweep SWEEP.py -j N --outdir DIR ...`: the sweep runner (sweep.c). */
int cli_sweep_main(int argc, char **argv);

/* `iommusim plot ...` and `iommusim report DIR` (pymod.c -> iommusim.plot). */
int cli_plot_main(int argc, char **argv);
int cli_report_main(int argc, char **argv);

/* The command's usage text (both modes). */
void cli_usage(FILE *out);

#endif /* CLI_CLI_H */
