/*
 * stats_cmd.c - `iommusim stats`: read a statistics file.
 *
 *   iommusim stats show FILE [PATTERN]    final values (PATTERN: a glob such
 *                                         as 'system.iommu.*', or a substring)
 *   iommusim stats export FILE --csv      every dump, long form, on stdout
 *
 * The reader is python/iommusim/stats.py, the same code users import, so the
 * command and the library can never disagree about the schema. This front
 * end finds the package (py_package_dir(): the source tree when run from the
 * build tree, else the installed copy, or $IOMMUSIM_PYTHONPATH) and replaces
 * itself with Debian's /usr/bin/python3 (which sees h5py, numpy and pandas;
 * NOTES.md), so exit status and output are the reader's: 0 ok, 1 unreadable
 * file or no match, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "py/py.h"

#define STATS_PYTHON "/usr/bin/python3"

static void stats_usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim stats show FILE [PATTERN]\n"
        "       iommusim stats export FILE --csv\n"
        "\n"
        "Read a statistics file (OUTDIR/stats.h5, or a live stats.h5.tmp).\n"
        "  show    the final value of each stat matching PATTERN (a glob such as\n"
        "          'system.iommu.*', or a substring; default: all)\n"
        "  export  every dump as CSV on stdout: dump,tick,time_s,path,value,unit\n"
        "The layout is documented in stats/SCHEMA.md.\n");
}

int cli_stats_main(int argc, char **argv)
{
    const char *pkg, *old;
    char **args;
    char *pp;
    int i;

    if (argc < 2) {
        stats_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        stats_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "export") != 0) {
        fprintf(stderr, "iommusim stats: unknown command '%s' (expected show or export; "
                "try 'iommusim stats --help')\n", argv[1]);
        return 2;
    }
    if (!(pkg = py_package_dir())) {
        fprintf(stderr, "iommusim stats: cannot find the iommusim Python package "
                "(set IOMMUSIM_PYTHONPATH to the directory holding iommusim/)\n");
        return 2;
    }
    old = getenv("PYTHONPATH");
    if (asprintf(&pp, "%s%s%s", pkg, old && *old ? ":" : "", old && *old ? old : "") < 0 ||
        setenv("PYTHONPATH", pp, 1) != 0) {
        fprintf(stderr, "iommusim stats: out of memory\n");
        return 1;
    }
    free(pp);
    if (!(args = calloc((size_t)argc + 3, sizeof(*args)))) {
        fprintf(stderr, "iommusim stats: out of memory\n");
        return 1;
    }
    args[0] = (char *)STATS_PYTHON;
    args[1] = (char *)"-m";
    args[2] = (char *)"iommusim.stats";
    for (i = 1; i < argc; i++)
        args[i + 2] = argv[i];
    fflush(NULL);
    execv(STATS_PYTHON, args);
    fprintf(stderr, "iommusim stats: cannot run %s: %s (install the Debian package "
            "python3-h5py)\n", STATS_PYTHON, strerror(errno));
    free(args);
    return 1;
}
