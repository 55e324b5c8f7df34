/*
 * main.c - the iommusim command: `demo`, or run a config (run.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "demo") == 0)
        return cli_demo_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "trace") == 0)
        return cli_trace_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0)
        return cli_stats_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "compare") == 0)
        return cli_compare_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "sweep") == 0)
        return cli_sweep_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "plot") == 0)
        return cli_plot_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "report") == 0)
        return cli_report_main(argc - 1, argv + 1);
    /* Everything else is `iommusim [options] CONFIG.py [args]` (run.c). */
    return cli_run_main(argc, argv);
}
