/*
 * run.c - `iommusim [options] CONFIG.py [args]`: run a Python config.
 *
 * Option parsing stops at the config path, so everything after it belongs to
 * the config (its sys.argv). The listing options (--list-models, --describe,
 * --params-markdown) read the descriptor table directly and never start
 * Python. Exit codes: 0 ok, 1 simulation error, 2 usage or config error,
 * 130 interrupted (Ctrl-C).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "engine/param.h"
#include "plugin/plugin.h"
#include "py/py.h"
#include "py/registry.h"

void cli_usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim [options] CONFIG.py [args for the config]\n"
        "       iommusim demo [options]\n"
        "\n"
        "iommusim simulates DMA traffic through an IOMMU. A config is a Python script\n"
        "that builds a tree of objects (import iommusim) and calls simulate().\n"
        "\n"
        "options:\n"
        "  --outdir DIR          write outputs to DIR (default iommusim-out)\n"
        "  --seed N              the random seed (default 1); same seed, same results\n"
        "  --stats-period T      dump statistics every T of simulated time (e.g. 10us)\n"
        "                        into OUTDIR/stats.h5, overriding the config's\n"
        "                        stats_period; 0: only the final dump\n"
        "  --set PATH.PARAM=VAL  override a parameter after the config built its\n"
        "                        objects (repeatable); VAL in the parameter's syntax\n"
        "  --dump-config         print the resolved object tree as JSON and exit\n"
        "  --list-models         list the models a config can build\n"
        "  --describe MODEL      every parameter of MODEL: type, default, doc\n"
        "  --plugin PATH         load an out-of-tree model (a shared object built with\n"
        "                        pkg-config iommusim; repeatable; docs/plugins.md),\n"
        "                        after those of IOMMUSIM_PLUGIN_PATH (a colon-separated\n"
        "                        list of plugin files or directories of them)\n"
        "  --params-markdown     every model as Markdown (make docs: docs/params.md)\n"
        "  --progress            a progress line on stderr while simulating (default\n"
        "                        when stderr is a terminal); --no-progress: never\n"
        "  --one-event-set       run every machine in one event set (by default, parts\n"
        "                        of the tree that share no object run in sets of\n"
        "                        their own: the same statistics, faster)\n"
        "  --threads N           run the event sets on up to N threads (default: the\n"
        "                        host's CPUs); the statistics are the same for any N\n"
        "  -q, --quiet           errors only\n"
        "  -v, --verbose         say more (repeatable)\n"
        "  --version             print the version\n"
        "  -h, --help            this text\n"
        "\n"
        "commands:\n"
        "  demo                  the event-engine demonstration (an M/D/1 queue)\n"
        "  trace                 import, inspect, generate or replay map/unmap traces\n"
        "  stats                 show or export a stats.h5 file (iommusim stats show|export)\n"
        "  sweep                 run a parameter sweep (docs/sweeps.md)\n"
        "  compare               compare two stats.h5 or sweep.h5 files (regression check)\n"
        "  plot, report          plots (PNG, SVG) and an HTML report of a sweep\n"
        "\n"
        "exit status: 0 ok, 1 simulation error, 2 usage or config error, 130 interrupted\n");
}

static void list_models(void)
{
    for (size_t i = 0; i < model_registry_count(); i++) {
        const struct sim_model *m = model_registry_at(i);
        const char *dot = strstr(m->doc, ". ");
        int n = dot ? (int)(dot - m->doc) : (int)strlen(m->doc);

        printf("%-16s %.*s\n", m->name, n, m->doc);
    }
}

static int parse_seed(const char *text, uint64_t *seed)
{
    char *end;

    if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
        return -1;
    errno = 0;
    *seed = strtoull(text, &end, 0);
    return errno || *end ? -1 : 0;
}

enum {
    OPT_OUTDIR = 256, OPT_SEED, OPT_SET, OPT_DUMP, OPT_LIST, OPT_DESCRIBE,
    OPT_MARKDOWN, OPT_PROGRESS, OPT_NO_PROGRESS, OPT_ONE_EVENT_SET, OPT_THREADS, OPT_VERSION, OPT_STATS_PERIOD,
    OPT_PLUGIN,
};

/* A simulated time ("10us", "0"): the parameter parser's rules, no cycles. */
static int parse_period(const char *text, uint64_t *ticks, char *err, size_t errlen)
{
    static const struct sim_param period = {
        .name = "stats-period", .type = SIM_PT_LATENCY, .doc = "", .flags = SIM_PF_NO_CYCLES,
    };
    struct sim_value v;

    if (strcmp(text, "0") == 0) {
        *ticks = 0;
        return 0;
    }
    if (sim_param_parse(&period, text, &v, err, errlen))
        return -1;
    *ticks = v.lat.value;
    return 0;
}

int cli_run_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "outdir", required_argument, NULL, OPT_OUTDIR },
        { "seed", required_argument, NULL, OPT_SEED },
        { "stats-period", required_argument, NULL, OPT_STATS_PERIOD },
        { "set", required_argument, NULL, OPT_SET },
        { "dump-config", no_argument, NULL, OPT_DUMP },
        { "list-models", no_argument, NULL, OPT_LIST },
        { "describe", required_argument, NULL, OPT_DESCRIBE },
        { "plugin", required_argument, NULL, OPT_PLUGIN },
        { "params-markdown", no_argument, NULL, OPT_MARKDOWN },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
        { "one-event-set", no_argument, NULL, OPT_ONE_EVENT_SET },
        { "threads", required_argument, NULL, OPT_THREADS },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, OPT_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct py_opts o = { .outdir = "iommusim-out", .seed = 1, .verbosity = 1 };
    int progress = -1;              /* -1: when stderr is a terminal */
    /* The listings run after every option was read, so that plugins named
     * anywhere on the line are in them. */
    int list = 0, markdown = 0;
    const char *describe = NULL, *plugin_env = getenv("IOMMUSIM_PLUGIN_PATH");
    char perr[640];
    struct stat sb;
    int c, code;

    o.sets = calloc((size_t)argc + 1, sizeof(*o.sets));
    if (!o.sets) {
        fprintf(stderr, "iommusim: out of memory\n");
        return 2;
    }
    /* Plugins add to the model tables before anything reads them: those of
     * the environment first, then each --plugin as it comes. */
    if (plugin_env && *plugin_env &&
        iommusim_plugin_load_list(plugin_env, perr, sizeof(perr))) {
        fprintf(stderr, "iommusim: IOMMUSIM_PLUGIN_PATH: %s\n", perr);
        goto usage_error;
    }
    opterr = 0;
    optind = 1;
    /* '+': stop at the first non-option, the config; the rest is its own. */
    while ((c = getopt_long(argc, argv, "+qvh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_OUTDIR:
            if (!*optarg) {
                fprintf(stderr, "iommusim: --outdir: empty directory name\n");
                goto usage_error;
            }
            o.outdir = optarg;
            break;
        case OPT_SEED:
            if (parse_seed(optarg, &o.seed)) {
                fprintf(stderr, "iommusim: --seed: not a seed (got '%s', expected an "
                        "integer from 0 to 2^64-1)\n", optarg);
                goto usage_error;
            }
            break;
        case OPT_STATS_PERIOD: {
            char err[512];

            if (parse_period(optarg, &o.stats_period, err, sizeof(err))) {
                fprintf(stderr, "iommusim: --stats-period: %s\n", err);
                goto usage_error;
            }
            o.stats_period_set = true;
            break;
        }
        case OPT_SET:
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "iommusim: --set: malformed override (got '%s', expected "
                        "PATH.PARAM=VALUE)\n", optarg);
                goto usage_error;
            }
            o.sets[o.nsets++] = optarg;
            break;
        case OPT_DUMP:
            o.dump_config = true;
            break;
        case OPT_LIST:
            list = 1;
            break;
        case OPT_DESCRIBE:
            describe = optarg;
            break;
        case OPT_MARKDOWN:
            markdown = 1;
            break;
        case OPT_PLUGIN:
            if (iommusim_plugin_load(optarg, perr, sizeof(perr))) {
                fprintf(stderr, "iommusim: --plugin: %s\n", perr);
                goto usage_error;
            }
            break;
        case OPT_PROGRESS:
            progress = 1;
            break;
        case OPT_NO_PROGRESS:
            progress = 0;
            break;
        case OPT_ONE_EVENT_SET:
            o.one_event_set = true;
            break;
        case OPT_THREADS: {
            char *end;
            unsigned long n;

            errno = 0;
            n = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || n < 1 || n > 1024) {
                fprintf(stderr, "iommusim: --threads: not a thread count (got '%s', expected "
                        "an integer from 1 to 1024)\n", optarg);
                goto usage_error;
            }
            o.threads = (unsigned)n;
            break;
        }
        case 'q':
            o.verbosity = 0;
            break;
        case 'v':
            o.verbosity++;
            break;
        case OPT_VERSION:
            printf("iommusim %s\n", PACKAGE_VERSION);
            free(o.sets);
            return 0;
        case 'h':
            cli_usage(stdout);
            free(o.sets);
            return 0;
        case ':':
            fprintf(stderr, "iommusim: %s needs a value\n", argv[optind - 1]);
            goto usage_error;
        default:
            fprintf(stderr, "iommusim: unknown option '%s' (try 'iommusim --help')\n",
                    argv[optind - 1]);
            goto usage_error;
        }
    }
    if (describe) {
        const struct sim_model *m = model_registry_find(describe);

        if (!m) {
            fprintf(stderr, "iommusim: --describe: no model '%s' (see "
                    "'iommusim --list-models')\n", describe);
            goto usage_error;
        }
        model_registry_describe(stdout, m);
    }
    if (list)
        list_models();
    if (markdown)
        model_registry_markdown(stdout);
    if (list || describe || markdown) {
        free(o.sets);
        return 0;
    }
    if (optind >= argc) {
        fprintf(stderr, "iommusim: no config given (usage: iommusim [options] CONFIG.py "
                "[args]; try 'iommusim --help')\n");
        goto usage_error;
    }
    o.config = argv[optind];
    o.cmd_argc = argc;
    o.cmd_argv = argv;
    o.argc = argc - optind - 1;
    o.argv = argv + optind + 1;
    if (stat(o.config, &sb) != 0) {
        fprintf(stderr, "iommusim: %s: cannot open the config (%s)\n", o.config,
                strerror(errno));
        goto usage_error;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "iommusim: %s: not a config file (expected a Python script)\n",
                o.config);
        goto usage_error;
    }
    o.progress = progress == -1 ? (o.verbosity > 0 && isatty(STDERR_FILENO)) : progress;
    code = py_run_config(&o);
    free(o.sets);
    return code;

usage_error:
    free(o.sets);
    return 2;
}
