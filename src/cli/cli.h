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

/* The command's usage text (both modes). */
void cli_usage(FILE *out);

#endif /* CLI_CLI_H */
