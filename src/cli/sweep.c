/*
 * sweep.c - `iommusim sweep SWEEP.py [-j N] [--outdir DIR] ...`: run every
 * point of a parameter sweep as a child `iommusim` process, on libuv.
 *
 * The sweep file is Python (python/iommusim/sweep.py, docs/sweeps.md), so
 * the point list comes from `/usr/bin/python3 -m iommusim.sweep list`, which
 * writes DIR/points.tsv: one point a line, ID, seed, state (todo, or done by
 * an earlier run that --resume keeps), its wall time, its parameters as JSON
 * and the argv that runs it. This file never parses JSON: it copies the
 * parameter objects into the manifest verbatim.
 *
 * The runner keeps at most N children at once. Each is spawned from an argv
 * (never a shell) in its own session, so a terminal's Ctrl-C reaches only
 * the runner, which decides: the first stops starting points and sends
 * SIGINT to the running ones (iommusim stops at its next slice boundary,
 * exit 130; finished points are kept), the second sends SIGKILL. A child's
 * stdout and stderr go to DIR/points/ID/stdout.log and stderr.log; a point
 * past --point-timeout gets SIGTERM, then SIGKILL two seconds later. Every
 * change of state rewrites DIR/manifest.json atomically (write a .tmp,
 * fsync, rename), so an interrupted or killed runner leaves a manifest that
 * --resume can trust. When every point has run, `python3 -m iommusim.sweep
 * merge` writes DIR/sweep.h5 (stats/SCHEMA.md) from the manifest, in point
 * order, so -j1 and -jN give identical statistics.
 *
 * With --dask ADDR each child is `python3 -m iommusim.sweep_dask ADDR ...`,
 * a client that runs the point as a task on a Dask cluster and writes its
 * files back into the point directory: the same concurrency, logs, timeout,
 * manifest and resume rules apply. --emit-slurm DIR writes a Slurm job array
 * instead of running.
 *
 * Exit status: 0 every point ok, 1 some point failed (the others are merged),
 * 2 usage, sweep-file or output-directory error, 130 interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "cli/cli.h"

#define SWEEP_KILL_GRACE_MS 2000

enum point_state {
    PT_TODO, PT_RUNNING, PT_OK, PT_FAILED, PT_TIMEOUT, PT_INTERRUPTED,
};

static const char *const state_names[] = {
    [PT_TODO] = "pending", [PT_RUNNING] = "running", [PT_OK] = "ok",
    [PT_FAILED] = "failed", [PT_TIMEOUT] = "timeout", [PT_INTERRUPTED] = "interrupted",
};

struct sweep;

struct point {
    struct sweep *sw;
    char *id, *seed, *params, *outdir;  /* pointers into the points.tsv text */
    char **argv;                        /* the child's argv, NULL-terminated */
    enum point_state state;
    bool was_done;                      /* finished by an earlier run (--resume) */
    int64_t exit_code;                  /* -1: none (signal, not started) */
    int term_signal;
    double wall_s;
    uint64_t start_ns;
    bool timed_out;
    char error[256];
    uv_process_t proc;
    uv_timer_t timer;                   /* --point-timeout, then the kill grace */
    bool timer_live;
};

#define SWEEP_MAX_PLUGINS 16

struct sweep {
    uv_loop_t *loop;
    const char *outdir;
    const char *dask;
    char exe[PATH_MAX];
    struct point *pts;
    size_t npts, next, running, finished_now;
    int jobs;
    double point_timeout_s;             /* 0: none */
    int interrupts;                     /* Ctrl-C count */
    bool progress, progress_tty, quiet;
    double progress_interval_s;
    /* --plugin PATHs (absolute), passed to every point as --plugin PATH */
    char *plugins[SWEEP_MAX_PLUGINS];
    size_t nplugins;
    uint64_t start_ns;
    char *sweep_json;                   /* DIR/sweep.json, verbatim */
    char *tsv;                          /* DIR/points.tsv, owned */
    uv_timer_t progress_timer;
    uv_signal_t sigint, sigterm;
    bool manifest_failed;
    bool closed;                        /* the loop's own handles are closed */
};

static void sweep_usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim sweep SWEEP.py [options]\n"
        "\n"
        "Run every point of a parameter sweep (docs/sweeps.md) as a child iommusim\n"
        "process; write DIR/manifest.json as points finish and DIR/sweep.h5 at the end.\n"
        "\n"
        "options:\n"
        "  -j, --jobs N            run at most N points at once (default: the CPU count)\n"
        "  --outdir DIR            the sweep directory (default sweep-out)\n"
        "  --resume                run only the points of DIR that are missing or failed\n"
        "  --point-timeout SECS    stop a point after SECS seconds and record it as failed\n"
        "  --dask tcp://HOST:PORT  run the points as tasks on a Dask cluster\n"
        "  --emit-slurm DIR        write a Slurm job array (DIR/sweep.sbatch) and exit\n"
        "  --plugin PATH           load an out-of-tree model in every point (repeatable;\n"
        "                          docs/plugins.md)\n"
        "  --progress, --no-progress  the progress line (default: when stderr is a tty)\n"
        "  --progress-interval S   refresh it every S seconds (default 1)\n"
        "  -q, --quiet             errors only\n"
        "  -h, --help              this text\n"
        "\n"
        "exit status: 0 all points ok, 1 some failed, 2 usage error, 130 interrupted\n");
}

/* mkdir -p. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, r;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap = 2 * cap + 8192);

            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* --- Running a helper to completion (the Python list and merge steps) ----- */

struct sync_child {
    int64_t status;
    int sig;
};

static void sync_exit(uv_process_t *p, int64_t status, int sig)
{
    struct sync_child *c = p->data;

    c->status = status;
    c->sig = sig;
    uv_close((uv_handle_t *)p, NULL);
}

/* Run argv with inherited stdio; its exit status, or -1 (message printed). */
static int run_sync(uv_loop_t *loop, char **argv)
{
    uv_process_options_t o = { 0 };
    uv_stdio_container_t io[3];
    struct sync_child c = { .status = -1 };
    uv_process_t p;
    int err;

    io[0].flags = UV_IGNORE;
    io[1].flags = UV_INHERIT_FD;
    io[1].data.fd = STDOUT_FILENO;
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = STDERR_FILENO;
    o.file = argv[0];
    o.args = argv;
    o.stdio = io;
    o.stdio_count = 3;
    o.exit_cb = sync_exit;
    p.data = &c;
    if ((err = uv_spawn(loop, &p, &o)) != 0) {
        fprintf(stderr, "iommusim sweep: cannot run %s: %s\n", argv[0], uv_strerror(err));
        uv_close((uv_handle_t *)&p, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        return -1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    return c.sig ? 128 + c.sig : (int)c.status;
}

/* --- The manifest ---------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Write DIR/manifest.json atomically; on failure say so once (the sweep goes
 * on: the points' own files are still there for a later --resume). */
static int manifest_write(struct sweep *sw)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    FILE *f;
    int ok;

    snprintf(path, sizeof(path), "%s/manifest.json", sw->outdir);
    snprintf(tmp, sizeof(tmp), "%s/manifest.json.tmp", sw->outdir);
    if (!(f = fopen(tmp, "w")))
        goto fail;
    fprintf(f, "{\n \"iommusim_sweep_manifest\": 1,\n \"runner\": ");
    json_string(f, sw->dask ? "dask" : "local");
    if (sw->dask) {
        fprintf(f, ",\n \"dask_scheduler\": ");
        json_string(f, sw->dask);
    }
    fprintf(f, ",\n \"jobs\": %d,\n \"sweep\": %s,\n \"points\": [\n", sw->jobs,
            sw->sweep_json);
    for (size_t i = 0; i < sw->npts; i++) {
        const struct point *p = &sw->pts[i];

        fprintf(f, "  {\"id\": ");
        json_string(f, p->id);
        fprintf(f, ", \"params\": %s, \"seed\": %s, \"status\": \"%s\", \"exit_code\": ",
                p->params, p->seed, state_names[p->state]);
        if (p->exit_code >= 0)
            fprintf(f, "%" PRId64, p->exit_code);
        else
            fputs("null", f);
        if (p->term_signal)
            fprintf(f, ", \"signal\": %d", p->term_signal);
        else
            fputs(", \"signal\": null", f);
        fprintf(f, ", \"wall_s\": %.6f, \"error\": ", p->wall_s);
        json_string(f, p->error);
        fputs(", \"outdir\": ", f);
        json_string(f, p->outdir);
        fprintf(f, "}%s\n", i + 1 < sw->npts ? "," : "");
    }
    fprintf(f, " ]\n}\n");
    ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        goto fail;
    }
    return 0;
fail:
    if (!sw->manifest_failed)
        fprintf(stderr, "iommusim sweep: %s: cannot write (%s)\n", path, strerror(errno));
    sw->manifest_failed = true;
    return -1;
}

/* --- Progress ----------------------------------------------------------------- */

static void count_states(const struct sweep *sw, size_t *ok, size_t *failed)
{
    *ok = *failed = 0;
    for (size_t i = 0; i < sw->npts; i++) {
        if (sw->pts[i].state == PT_OK)
            (*ok)++;
        else if (sw->pts[i].state >= PT_FAILED)
            (*failed)++;
    }
}

static void progress_print(struct sweep *sw, bool final)
{
    size_t ok, failed, left;
    double el = (double)(uv_hrtime() - sw->start_ns) / 1e9;
    char eta[32] = "?";

    count_states(sw, &ok, &failed);
    left = sw->npts - ok - failed;
    if (sw->finished_now > 0 && left > 0)
        snprintf(eta, sizeof(eta), "%.0fs", el / (double)sw->finished_now * (double)left);
    else if (left == 0)
        snprintf(eta, sizeof(eta), "0s");
    fprintf(stderr, "%ssweep: %zu/%zu done, %zu failed, %zu running, elapsed %.0fs, ETA %s%s",
            sw->progress_tty ? "\r\033[K" : "", ok, sw->npts, failed, sw->running, el, eta,
            sw->progress_tty && !final ? "" : "\n");
    fflush(stderr);
}

static void progress_tick(uv_timer_t *t)
{
    progress_print(t->data, false);
}

/* --- Points ------------------------------------------------------------------ */

static void start_points(struct sweep *sw);

static void handle_closed(uv_handle_t *h)
{
    (void)h;
}

/* The point's one-line error: the last non-empty line of its stderr.log that
 * is not one of iommusim's closing notes (where the statistics went), so a
 * config's exception ("RuntimeError: ...") is what the manifest shows. */
static void last_error_line(const struct point *p, char *buf, size_t len)
{
    static const char *const notes[] = { "iommusim: statistics ", "iommusim: done:" };
    char path[PATH_MAX];
    char *text, *end, *start;
    size_t n, k;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/stderr.log", p->outdir);
    if (!(text = read_file(path, &n)))
        return;
    end = text + n;
    for (;;) {
        while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            end--;
        if (end == text)
            break;
        *end = '\0';
        start = end;
        while (start > text && start[-1] != '\n' && start[-1] != '\r')
            start--;
        for (k = 0; k < sizeof(notes) / sizeof(notes[0]); k++)
            if (strncmp(start, notes[k], strlen(notes[k])) == 0)
                break;
        if (k == sizeof(notes) / sizeof(notes[0])) {
            snprintf(buf, len, "%s", start);
            break;
        }
        end = start;
    }
    free(text);
}

static void point_exit(uv_process_t *proc, int64_t status, int sig)
{
    struct point *p = proc->data;
    struct sweep *sw = p->sw;
    char line[200];

    p->wall_s = (double)(uv_hrtime() - p->start_ns) / 1e9;
    p->exit_code = sig ? -1 : status;
    p->term_signal = sig;
    if (p->timer_live) {
        uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, handle_closed);
        p->timer_live = false;
    }
    uv_close((uv_handle_t *)proc, handle_closed);
    last_error_line(p, line, sizeof(line));
    if (p->timed_out) {
        p->state = PT_TIMEOUT;
        snprintf(p->error, sizeof(p->error), "timed out after %gs (--point-timeout)",
                 sw->point_timeout_s);
    } else if (!sig && status == 0) {
        p->state = PT_OK;
    } else if (sw->interrupts) {        /* stopped by us, whatever it said */
        p->state = PT_INTERRUPTED;
        snprintf(p->error, sizeof(p->error), "interrupted by Ctrl-C");
    } else if (sig) {
        p->state = PT_FAILED;
        snprintf(p->error, sizeof(p->error), "killed by signal %d (%s)%s%s", sig,
                 strsignal(sig), *line ? ": " : "", line);
    } else {
        p->state = PT_FAILED;
        snprintf(p->error, sizeof(p->error), "exit %" PRId64 "%s%s", status,
                 *line ? ": " : "", line);
    }
    sw->running--;
    sw->finished_now++;
    if (p->state != PT_OK && !sw->quiet && !sw->interrupts) {
        if (sw->progress_tty)
            fputs("\r\033[K", stderr);
        fprintf(stderr, "iommusim sweep: point %s %s: %s (log: %s/stderr.log)\n", p->id,
                state_names[p->state], p->error, p->outdir);
    }
    manifest_write(sw);
    start_points(sw);
}

static void point_kill_late(uv_timer_t *t)
{
    struct point *p = t->data;

    if (p->state == PT_RUNNING)
        uv_process_kill(&p->proc, SIGKILL);
}

static void point_timeout(uv_timer_t *t)
{
    struct point *p = t->data;

    if (p->state != PT_RUNNING)
        return;
    p->timed_out = true;
    uv_process_kill(&p->proc, SIGTERM);
    uv_timer_start(&p->timer, point_kill_late, SWEEP_KILL_GRACE_MS, 0);
}

static int open_log(const struct point *p, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s", p->outdir, name);
    return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
}

static void point_start(struct sweep *sw, struct point *p)
{
    uv_process_options_t o = { 0 };
    uv_stdio_container_t io[3];
    int out = -1, err = -1, e;

    p->start_ns = uv_hrtime();
    p->error[0] = '\0';
    p->timed_out = false;
    p->exit_code = -1;
    p->term_signal = 0;
    if (make_dirs(p->outdir) != 0 || (out = open_log(p, "stdout.log")) < 0 ||
        (err = open_log(p, "stderr.log")) < 0) {
        snprintf(p->error, sizeof(p->error), "%s: cannot create the point's logs (%s)",
                 p->outdir, strerror(errno));
        goto failed;
    }
    io[0].flags = UV_IGNORE;
    io[1].flags = UV_INHERIT_FD;
    io[1].data.fd = out;
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = err;
    o.file = p->argv[0];
    o.args = p->argv;
    o.stdio = io;
    o.stdio_count = 3;
    o.exit_cb = point_exit;
    /* Own session: a terminal's Ctrl-C reaches the runner only (see top). */
    o.flags = UV_PROCESS_DETACHED;
    p->proc.data = p;
    if ((e = uv_spawn(sw->loop, &p->proc, &o)) != 0) {
        uv_close((uv_handle_t *)&p->proc, handle_closed);
        snprintf(p->error, sizeof(p->error), "cannot run %s: %s", p->argv[0], uv_strerror(e));
        goto failed;
    }
    close(out);
    close(err);
    p->state = PT_RUNNING;
    sw->running++;
    if (sw->point_timeout_s > 0) {
        uv_timer_init(sw->loop, &p->timer);
        p->timer.data = p;
        p->timer_live = true;
        uv_timer_start(&p->timer, point_timeout, (uint64_t)(sw->point_timeout_s * 1000), 0);
    }
    return;
failed:
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    p->state = PT_FAILED;
    sw->finished_now++;
    fprintf(stderr, "iommusim sweep: point %s failed: %s\n", p->id, p->error);
}

static void start_points(struct sweep *sw)
{
    bool changed = false;

    while (!sw->interrupts && sw->running < (size_t)sw->jobs && sw->next < sw->npts) {
        struct point *p = &sw->pts[sw->next++];

        if (p->state != PT_TODO)
            continue;
        point_start(sw, p);
        changed = true;
    }
    if (changed)
        manifest_write(sw);
    if (!sw->closed && sw->running == 0 && (sw->interrupts || sw->next >= sw->npts)) {
        /* Nothing left to wait for: let uv_run return. */
        sw->closed = true;
        uv_close((uv_handle_t *)&sw->progress_timer, handle_closed);
        uv_close((uv_handle_t *)&sw->sigint, handle_closed);
        uv_close((uv_handle_t *)&sw->sigterm, handle_closed);
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sweep *sw = h->data;
    int sig = ++sw->interrupts == 1 ? SIGINT : SIGKILL;

    if (sw->progress_tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "iommusim sweep: %s: %s %zu running point%s%s\n", strsignal(signum),
            sig == SIGINT ? "stopping" : "killing", sw->running, sw->running == 1 ? "" : "s",
            sig == SIGINT ? " (again to kill them)" : "");
    for (size_t i = 0; i < sw->npts; i++)
        if (sw->pts[i].state == PT_RUNNING)
            uv_process_kill(&sw->pts[i].proc, sig);
    start_points(sw);       /* closes the loop's handles if nothing runs */
}

/* --- Loading the point list ---------------------------------------------------- */

/* Split DIR/points.tsv into points; every string points into sw->tsv. */
static int parse_points(struct sweep *sw, const char *path)
{
    char *line, *save = NULL;
    size_t n = 0, cap = 0;

    if (!(sw->tsv = read_file(path, NULL))) {
        fprintf(stderr, "iommusim sweep: %s: cannot read the point list (%s)\n", path,
                strerror(errno));
        return -1;
    }
    for (line = strtok_r(sw->tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[5], *tab, *rest = line;
        size_t nargs = 1, k;
        struct point *p;

        for (k = 0; k < 5; k++) {
            f[k] = rest;
            if (!(tab = strchr(rest, '\t')))
                goto malformed;
            *tab = '\0';
            rest = tab + 1;
        }
        if (n == cap) {
            struct point *np = realloc(sw->pts, (cap = 2 * cap + 16) * sizeof(*np));

            if (!np)
                goto nomem;
            sw->pts = np;
        }
        p = &sw->pts[n];
        memset(p, 0, sizeof(*p));
        p->sw = sw;
        p->id = f[0];
        p->seed = f[1];
        p->was_done = strcmp(f[2], "done") == 0;
        p->state = p->was_done ? PT_OK : PT_TODO;
        p->exit_code = p->was_done ? 0 : -1;
        p->wall_s = strtod(f[3], NULL);
        p->params = f[4];
        for (char *c = rest; *c; c++)
            nargs += *c == '\t';
        /* argv: [python3 -m iommusim.sweep_dask ADDR TIMEOUT --] exe
         * [--plugin PATH]... args NULL */
        if (!(p->argv = calloc(nargs + 8 + 2 * sw->nplugins, sizeof(char *))))
            goto nomem;
        n++;
        k = 0;
        if (sw->dask) {
            static char timeout[32];

            snprintf(timeout, sizeof(timeout), "%g", sw->point_timeout_s);
            p->argv[k++] = (char *)CLI_SYSTEM_PYTHON;
            p->argv[k++] = (char *)"-m";
            p->argv[k++] = (char *)"iommusim.sweep_dask";
            p->argv[k++] = (char *)sw->dask;
            p->argv[k++] = timeout;
            p->argv[k++] = (char *)"--";
        }
        p->argv[k++] = sw->exe;
        for (size_t j = 0; j < sw->nplugins; j++) {
            p->argv[k++] = (char *)"--plugin";
            p->argv[k++] = sw->plugins[j];
        }
        for (char *a = strtok_r(rest, "\t", &tab); a; a = strtok_r(NULL, "\t", &tab))
            p->argv[k++] = a;
        /* The point's directory is the value after --outdir (argv[1..2] of
         * the iommusim part, as iommusim.sweep writes it). */
        for (size_t j = 0; p->argv[j]; j++)
            if (strcmp(p->argv[j], "--outdir") == 0 && p->argv[j + 1]) {
                p->outdir = p->argv[j + 1];
                break;
            }
        if (!p->outdir)
            goto malformed;
    }
    sw->npts = n;
    return 0;
malformed:
    sw->npts = n;
    fprintf(stderr, "iommusim sweep: %s: malformed point list (line %zu)\n", path, n + 1);
    return -1;
nomem:
    sw->npts = n;
    fprintf(stderr, "iommusim sweep: out of memory\n");
    return -1;
}

static void sweep_free(struct sweep *sw)
{
    for (size_t i = 0; i < sw->npts; i++)
        free(sw->pts[i].argv);
    free(sw->pts);
    free(sw->tsv);
    free(sw->sweep_json);
}

static int parse_positive(const char *text, double *v)
{
    char *end;

    errno = 0;
    *v = strtod(text, &end);
    return errno || end == text || *end || !(*v > 0) || *v > 1e9 ? -1 : 0;
}

enum {
    OPT_OUTDIR = 256, OPT_RESUME, OPT_TIMEOUT, OPT_DASK, OPT_SLURM, OPT_PLUGIN, OPT_PROGRESS,
    OPT_NO_PROGRESS, OPT_INTERVAL,
};

int cli_sweep_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "jobs", required_argument, NULL, 'j' },
        { "outdir", required_argument, NULL, OPT_OUTDIR },
        { "resume", no_argument, NULL, OPT_RESUME },
        { "point-timeout", required_argument, NULL, OPT_TIMEOUT },
        { "dask", required_argument, NULL, OPT_DASK },
        { "emit-slurm", required_argument, NULL, OPT_SLURM },
        { "plugin", required_argument, NULL, OPT_PLUGIN },
        { "progress", no_argument, NULL, OPT_PROGRESS },
        { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
        { "progress-interval", required_argument, NULL, OPT_INTERVAL },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct sweep sw = { .outdir = "sweep-out", .progress_interval_s = 1.0 };
    const char *slurm = NULL, *sweep_file;
    char tsv[PATH_MAX], path[PATH_MAX];
    bool resume = false;
    int progress = -1, c, code;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ssize_t n;
    size_t ok, failed;
    double v;

    sw.jobs = ncpu > 0 ? (int)ncpu : 1;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            if (parse_positive(optarg, &v) || v != (int)v || v > 4096) {
                fprintf(stderr, "iommusim sweep: -j: not a job count (got '%s', expected "
                        "an integer from 1 to 4096)\n", optarg);
                return 2;
            }
            sw.jobs = (int)v;
            break;
        case OPT_OUTDIR:
            if (!*optarg) {
                fprintf(stderr, "iommusim sweep: --outdir: empty directory name\n");
                return 2;
            }
            sw.outdir = optarg;
            break;
        case OPT_RESUME:
            resume = true;
            break;
        case OPT_TIMEOUT:
            if (parse_positive(optarg, &sw.point_timeout_s)) {
                fprintf(stderr, "iommusim sweep: --point-timeout: not a time in seconds "
                        "(got '%s', expected a number > 0)\n", optarg);
                return 2;
            }
            break;
        case OPT_DASK:
            if (strncmp(optarg, "tcp://", 6) != 0 || !strchr(optarg + 6, ':')) {
                fprintf(stderr, "iommusim sweep: --dask: not a scheduler address (got "
                        "'%s', expected tcp://HOST:PORT)\n", optarg);
                return 2;
            }
            sw.dask = optarg;
            break;
        case OPT_SLURM:
            slurm = optarg;
            break;
        case OPT_PLUGIN: {
            /* Absolute, so that a point finds it from wherever it runs; a
             * missing file is this command's error, not every point's. */
            static char abs[SWEEP_MAX_PLUGINS][PATH_MAX];

            if (sw.nplugins == SWEEP_MAX_PLUGINS) {
                fprintf(stderr, "iommusim sweep: --plugin %s: at most %d plugins (or put "
                        "them in a directory named by IOMMUSIM_PLUGIN_PATH)\n", optarg,
                        SWEEP_MAX_PLUGINS);
                return 2;
            }
            if (!realpath(optarg, abs[sw.nplugins])) {
                fprintf(stderr, "iommusim sweep: --plugin %s: cannot use it (%s)\n", optarg,
                        strerror(errno));
                return 2;
            }
            sw.plugins[sw.nplugins] = abs[sw.nplugins];
            sw.nplugins++;
            break;
        }
        case OPT_PROGRESS:
            progress = 1;
            break;
        case OPT_NO_PROGRESS:
            progress = 0;
            break;
        case OPT_INTERVAL:
            if (parse_positive(optarg, &sw.progress_interval_s)) {
                fprintf(stderr, "iommusim sweep: --progress-interval: expected seconds "
                        "> 0 (got '%s')\n", optarg);
                return 2;
            }
            break;
        case 'q':
            sw.quiet = true;
            break;
        case 'h':
            sweep_usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "iommusim sweep: %s needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "iommusim sweep: unknown option '%s' (try 'iommusim sweep "
                    "--help')\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "iommusim sweep: %s (usage: iommusim sweep SWEEP.py [-j N] "
                "[--outdir DIR]; try 'iommusim sweep --help')\n",
                optind >= argc ? "no sweep file given" : "one sweep file expected");
        return 2;
    }
    sweep_file = argv[optind];
    if ((n = readlink("/proc/self/exe", sw.exe, sizeof(sw.exe) - 1)) <= 0) {
        fprintf(stderr, "iommusim sweep: cannot find this program's path (/proc/self/exe)\n");
        return 2;
    }
    sw.exe[n] = '\0';
    if (cli_python_env("iommusim sweep"))
        return 2;
    if (slurm && sw.nplugins) {
        /* The job array's points are written by iommusim.sweep, which takes
         * no plugins: the environment reaches the jobs instead. */
        fprintf(stderr, "iommusim sweep: --plugin is not written into Slurm scripts; "
                "export IOMMUSIM_PLUGIN_PATH=%s before sbatch instead\n", sw.plugins[0]);
        return 2;
    }
    if (slurm) {
        char *args[] = { (char *)"iommusim", (char *)"emit-slurm", (char *)sweep_file,
                         (char *)slurm, (char *)"--iommusim", sw.exe, (char *)"--outdir",
                         (char *)sw.outdir, NULL };

        return cli_exec_python_module("iommusim sweep", "iommusim.sweep", 8, args);
    }
    if (make_dirs(sw.outdir) != 0) {
        fprintf(stderr, "iommusim sweep: %s: cannot create the output directory (%s)\n",
                sw.outdir, strerror(errno));
        return 2;
    }
    snprintf(path, sizeof(path), "%s/manifest.json", sw.outdir);
    if (!resume && access(path, F_OK) == 0) {
        fprintf(stderr, "iommusim sweep: %s already holds a sweep (manifest.json); use "
                "--resume to finish it, or another --outdir\n", sw.outdir);
        return 2;
    }
    sw.loop = uv_default_loop();

    /* 1. The point list, from the sweep file (and the old manifest). */
    snprintf(tsv, sizeof(tsv), "%s/points.tsv", sw.outdir);
    {
        char *args[] = { (char *)CLI_SYSTEM_PYTHON, (char *)"-m", (char *)"iommusim.sweep",
                         (char *)"list", (char *)sweep_file, (char *)"--outdir",
                         (char *)sw.outdir, (char *)"--out", tsv,
                         NULL, NULL, NULL, NULL };
        int k = 9;

        if (resume)
            args[k++] = (char *)"--resume";
        if (sw.dask) {
            args[k++] = (char *)"--dask";
            args[k++] = (char *)sw.dask;
        }

        if (run_sync(sw.loop, args) != 0) {
            fprintf(stderr, "iommusim sweep: %s: no point list (see the error above)\n",
                    sweep_file);
            return 2;
        }
    }
    snprintf(path, sizeof(path), "%s/sweep.json", sw.outdir);
    if (!(sw.sweep_json = read_file(path, NULL)) || parse_points(&sw, tsv) != 0) {
        if (!sw.sweep_json)
            fprintf(stderr, "iommusim sweep: %s: cannot read (%s)\n", path, strerror(errno));
        sweep_free(&sw);
        return 2;
    }

    /* 2. Run the points. */
    sw.progress_tty = isatty(STDERR_FILENO);
    sw.progress = progress == -1 ? (!sw.quiet && sw.progress_tty) : progress == 1;
    sw.start_ns = uv_hrtime();
    uv_timer_init(sw.loop, &sw.progress_timer);
    sw.progress_timer.data = &sw;
    if (sw.progress) {
        uint64_t ms = (uint64_t)(sw.progress_interval_s * 1000);

        uv_timer_start(&sw.progress_timer, progress_tick, ms ? ms : 1, ms ? ms : 1);
    }
    uv_signal_init(sw.loop, &sw.sigint);
    uv_signal_init(sw.loop, &sw.sigterm);
    sw.sigint.data = sw.sigterm.data = &sw;
    uv_signal_start(&sw.sigint, on_signal, SIGINT);
    uv_signal_start(&sw.sigterm, on_signal, SIGTERM);
    manifest_write(&sw);
    start_points(&sw);
    uv_run(sw.loop, UV_RUN_DEFAULT);
    if (sw.progress)
        progress_print(&sw, true);
    manifest_write(&sw);
    count_states(&sw, &ok, &failed);

    /* 3. Merge what finished (not after Ctrl-C: --resume will). */
    code = failed ? 1 : 0;
    if (sw.interrupts) {
        fprintf(stderr, "iommusim sweep: interrupted: %zu of %zu points done; "
                "'iommusim sweep %s --outdir %s --resume' finishes the sweep\n", ok, sw.npts,
                sweep_file, sw.outdir);
        code = 130;
    } else if (ok > 0) {
        char *args[] = { (char *)CLI_SYSTEM_PYTHON, (char *)"-m", (char *)"iommusim.sweep",
                         (char *)"merge", (char *)sw.outdir, NULL };

        if (run_sync(sw.loop, args) != 0) {
            fprintf(stderr, "iommusim sweep: %s: merging into sweep.h5 failed\n", sw.outdir);
            code = 1;
        }
    }
    if (!sw.quiet && !sw.interrupts) {
        if (ok)
            fprintf(stderr, "iommusim sweep: %zu points: %zu ok, %zu failed; merged into "
                    "%s/sweep.h5\n", sw.npts, ok, failed, sw.outdir);
        else
            fprintf(stderr, "iommusim sweep: %zu points: all failed; nothing to merge\n",
                    sw.npts);
    }
    if (sw.manifest_failed && code == 0)
        code = 1;
    sweep_free(&sw);
    uv_loop_close(sw.loop);
    return code;
}
