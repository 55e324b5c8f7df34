/*
 * main.c - the iommusim command: dispatch to sub-commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim [--help] [--version] COMMAND [ARGS]\n"
        "\n"
        "iommusim simulates DMA traffic through an IOMMU.\n"
        "\n"
        "commands:\n"
        "  demo      run the event-engine demonstration (an M/D/1 queue)\n"
        "\n"
        "Run 'iommusim COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("iommusim %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "demo") == 0)
        return cli_demo_main(argc - 1, argv + 1);
    fprintf(stderr, "iommusim: unknown command '%s' (try 'iommusim --help')\n", argv[1]);
    return 2;
}
