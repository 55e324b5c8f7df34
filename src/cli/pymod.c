/*
 * pymod.c - run a module of the iommusim Python package under Debian's
 * /usr/bin/python3, for the analysis commands (`iommusim compare`, and the
 * sweep runner's point listing and merge).
 *
 * The analysis code (h5py, numpy, pandas, matplotlib) lives in
 * python/iommusim so that the commands and the library users import can never
 * disagree. Like stats_cmd.c, this finds the package (py_package_dir()),
 * prepends it to PYTHONPATH and either replaces the process (exec) or, for the
 * sweep runner, fills an argv for a child.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "py/py.h"

int cli_python_env(const char *who)
{
    const char *pkg, *old;
    char *pp;

    if (!(pkg = py_package_dir())) {
        fprintf(stderr, "%s: cannot find the iommusim Python package "
                "(set IOMMUSIM_PYTHONPATH to the directory holding iommusim/)\n", who);
        return -1;
    }
    old = getenv("PYTHONPATH");
    /* Already first on the path (a second call): nothing to do. */
    if (old && strncmp(old, pkg, strlen(pkg)) == 0 &&
        (old[strlen(pkg)] == '\0' || old[strlen(pkg)] == ':'))
        return 0;
    if (asprintf(&pp, "%s%s%s", pkg, old && *old ? ":" : "", old && *old ? old : "") < 0) {
        fprintf(stderr, "%s: out of memory\n", who);
        return -1;
    }
    if (setenv("PYTHONPATH", pp, 1) != 0) {
        free(pp);
        fprintf(stderr, "%s: out of memory\n", who);
        return -1;
    }
    free(pp);
    return 0;
}

int cli_exec_python_module(const char *who, const char *module, int argc, char **argv)
{
    char **args;
    int i;

    if (cli_python_env(who))
        return 2;
    if (!(args = calloc((size_t)argc + 4, sizeof(*args)))) {
        fprintf(stderr, "%s: out of memory\n", who);
        return 1;
    }
    args[0] = (char *)CLI_SYSTEM_PYTHON;
    args[1] = (char *)"-m";
    args[2] = (char *)module;
    for (i = 1; i < argc; i++)
        args[i + 2] = argv[i];
    fflush(NULL);
    execv(CLI_SYSTEM_PYTHON, args);
    fprintf(stderr, "%s: cannot run %s: %s (install the Debian packages python3-h5py, "
            "python3-pandas)\n", who, CLI_SYSTEM_PYTHON, strerror(errno));
    free(args);
    return 2;
}

int cli_compare_main(int argc, char **argv)
{
    return cli_exec_python_module("iommusim compare", "iommusim.compare", argc, argv);
}

int cli_plot_main(int argc, char **argv)
{
    return cli_exec_python_module("iommusim plot", "iommusim.plot", argc, argv);
}

/* `iommusim report DIR ...` is `python3 -m iommusim.plot report DIR ...`. */
int cli_report_main(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 2, sizeof(*args));
    int code;

    if (!args) {
        fprintf(stderr, "iommusim report: out of memory\n");
        return 1;
    }
    args[0] = argv[0];
    args[1] = (char *)"report";
    for (int i = 1; i < argc; i++)
        args[i + 1] = argv[i];
    code = cli_exec_python_module("iommusim report", "iommusim.plot", argc + 1, args);
    free(args);
    return code;
}
