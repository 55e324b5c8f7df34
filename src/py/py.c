/*
 * py.c - the embedded interpreter: start it, point it at the `iommusim`
 * package, run a config through iommusim._runner, stop it.
 *
 * Configuration (see NOTES.md): PyConfig_InitIsolatedConfig ignores PYTHON*
 * variables and the user's site directory, but still runs Debian's site.py,
 * so numpy and h5py from /usr/lib/python3/dist-packages import. Bytecode is
 * not written: a config's directory and the source tree stay clean.
 *
 * Where the package is (py_package_dir):
 *  1. $IOMMUSIM_PYTHONPATH, if set (developers, relocated installs);
 *  2. the source tree's python/ when this binary runs from the build tree it
 *     was built in (VPATH builds: sources and binary in different trees);
 *  3. $(pkgdatadir)/python, where `make install` puts it;
 *  4. the source tree's python/, if it still exists.
 * Each candidate must hold iommusim/__init__.py.
 *
 * Bytecode of the package (py_cache_dir): compiling its modules took 8 ms
 * of every run's ~60 ms start-up. They are imported with sys.pycache_prefix
 * pointing at a cache of our own, written there on first use and validated
 * against each source's mtime and size as usual, so an edited module is
 * recompiled and the source tree stays clean: the build tree's pycache/
 * when the binary runs from its build tree, else
 * $XDG_CACHE_HOME/iommusim/pycache (~/.cache/...). $IOMMUSIM_PYCACHE, if
 * set, names the directory instead, or turns the cache off when empty (the
 * embedded interpreter ignores PYTHON* variables, PYTHONDONTWRITEBYTECODE
 * included, as it ignores the rest).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "py/internal.h"
#include "py/py.h"

#ifndef IOMMUSIM_PYDIR_INSTALLED
#error "IOMMUSIM_PYDIR_INSTALLED must be defined by the build ($(pkgdatadir)/python)"
#endif
#ifndef IOMMUSIM_PYDIR_SOURCE
#error "IOMMUSIM_PYDIR_SOURCE must be defined by the build ($(abs_top_srcdir)/python)"
#endif
#ifndef IOMMUSIM_BUILDDIR
#error "IOMMUSIM_BUILDDIR must be defined by the build ($(abs_top_builddir))"
#endif

static int has_package(const char *dir)
{
    char path[PATH_MAX];

    if (!dir || !*dir)
        return 0;
    snprintf(path, sizeof(path), "%s/iommusim/__init__.py", dir);
    return access(path, R_OK) == 0;
}

/*
 * Whether this process's binary lives in the build tree it was built in:
 * in the build directory itself, or in its .libs/, where libtool keeps the
 * real program behind the build tree's `iommusim` wrapper script.
 */
static int running_from_build_tree(void)
{
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0)
        return 0;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    if (!realpath(IOMMUSIM_BUILDDIR, build))
        return 0;
    if (strcmp(exe, build) == 0)
        return 1;
    slash = strrchr(exe, '/');
    return slash && strcmp(slash, "/.libs") == 0 && (*slash = '\0', strcmp(exe, build) == 0);
}

const char *py_package_dir(void)
{
    const char *env = getenv("IOMMUSIM_PYTHONPATH");

    if (env && *env)
        return has_package(env) ? env : NULL;
    if (running_from_build_tree() && has_package(IOMMUSIM_PYDIR_SOURCE))
        return IOMMUSIM_PYDIR_SOURCE;
    if (has_package(IOMMUSIM_PYDIR_INSTALLED))
        return IOMMUSIM_PYDIR_INSTALLED;
    if (has_package(IOMMUSIM_PYDIR_SOURCE))
        return IOMMUSIM_PYDIR_SOURCE;
    return NULL;
}

/* Where the package's bytecode is cached, or NULL (see the top comment). */
static const char *py_cache_dir(char *buf, size_t len)
{
    const char *env = getenv("IOMMUSIM_PYCACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;

    if (env)
        n = *env ? snprintf(buf, len, "%s", env) : -1;
    else if (running_from_build_tree())
        n = snprintf(buf, len, "%s/pycache", IOMMUSIM_BUILDDIR);
    else if (xdg && *xdg == '/')
        n = snprintf(buf, len, "%s/iommusim/pycache", xdg);
    else if (home && *home == '/')
        n = snprintf(buf, len, "%s/.cache/iommusim/pycache", home);
    else
        return NULL;
    return n > 0 && (size_t)n < len ? buf : NULL;
}

/*
 * Import the runner (and with it the package) with the bytecode cache on;
 * then the process goes back to Python's settings of start-up (no
 * bytecode written, no prefix), so the config and what it imports are
 * untouched. A cache that cannot be written is silently skipped by Python.
 */
static PyObject *import_runner(void)
{
    char dir[PATH_MAX];
    const char *cache = py_cache_dir(dir, sizeof(dir));
    PyObject *prefix = NULL, *runner;

    if (cache) {
        prefix = PyUnicode_DecodeFSDefault(cache);
        if (!prefix || PySys_SetObject("pycache_prefix", prefix) ||
            PySys_SetObject("dont_write_bytecode", Py_False)) {
            Py_XDECREF(prefix);
            return NULL;
        }
    }
    runner = PyImport_ImportModule("iommusim._runner");
    if (cache) {
        PyObject *type, *value, *tb;

        Py_DECREF(prefix);
        PyErr_Fetch(&type, &value, &tb);        /* the import's error, if any */
        if (PySys_SetObject("pycache_prefix", Py_None) ||
            PySys_SetObject("dont_write_bytecode", Py_True))
            PyErr_Clear();      /* setting sys attributes does not fail in practice */
        PyErr_Restore(type, value, tb);
    }
    return runner;
}

static int start_interpreter(const struct py_opts *o)
{
    PyConfig cfg;
    PyStatus st;
    char **argv;
    int argc = o->argc + 1;

    if (PyImport_AppendInittab("_iommusim", py_module_init) < 0) {
        fprintf(stderr, "iommusim: cannot register the _iommusim module\n");
        return -1;
    }
    PyConfig_InitIsolatedConfig(&cfg);
    cfg.install_signal_handlers = 1;    /* Ctrl-C becomes KeyboardInterrupt */
    cfg.write_bytecode = 0;
    cfg.parse_argv = 0;
    argv = calloc((size_t)argc + 1, sizeof(*argv));
    if (!argv) {
        PyConfig_Clear(&cfg);
        return -1;
    }
    argv[0] = (char *)o->config;
    for (int i = 0; i < o->argc; i++)
        argv[i + 1] = o->argv[i];
    st = PyConfig_SetBytesArgv(&cfg, argc, argv);
    free(argv);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(&cfg, &cfg.program_name, "iommusim");
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&cfg);
    PyConfig_Clear(&cfg);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "iommusim: cannot start Python: %s%s%s\n",
                st.func ? st.func : "", st.func ? ": " : "",
                st.err_msg ? st.err_msg : "unknown error");
        return -1;
    }
    return 0;
}

/* Put dir first on sys.path. */
static int prepend_path(const char *dir)
{
    PyObject *path = PySys_GetObject("path");      /* borrowed */
    PyObject *d;
    int rc;

    if (!path || !PyList_Check(path))
        return -1;
    d = PyUnicode_DecodeFSDefault(dir);
    if (!d)
        return -1;
    rc = PyList_Insert(path, 0, d);
    Py_DECREF(d);
    return rc;
}

int py_run_config(const struct py_opts *o)
{
    const char *pkg = py_package_dir();
    PyObject *runner = NULL, *args = NULL, *res = NULL;
    int code = 2;

    if (!pkg) {
        fprintf(stderr, "iommusim: cannot find the iommusim Python package (looked in "
                "$IOMMUSIM_PYTHONPATH, %s and %s)\n", IOMMUSIM_PYDIR_SOURCE,
                IOMMUSIM_PYDIR_INSTALLED);
        return 2;
    }
    py_module_set_opts(o);
    if (start_interpreter(o))
        return 2;
    if (prepend_path(pkg))
        goto py_error;
    runner = import_runner();
    if (!runner)
        goto py_error;
    args = PyList_New(0);
    if (!args)
        goto py_error;
    for (int i = 0; i < o->argc; i++) {
        PyObject *a = PyUnicode_DecodeFSDefault(o->argv[i]);

        if (!a || PyList_Append(args, a)) {
            Py_XDECREF(a);
            goto py_error;
        }
        Py_DECREF(a);
    }
    res = PyObject_CallMethod(runner, "main", "sO", o->config, args);
    if (!res)
        goto py_error;
    code = (int)PyLong_AsLong(res);
    if (code == -1 && PyErr_Occurred())
        goto py_error;
    goto out;

py_error:
    /* Only reached when the package itself fails: the runner catches every
     * error of the config. */
    fprintf(stderr, "iommusim: internal error in the Python layer:\n");
    PyErr_Print();
    code = 2;
out:
    Py_XDECREF(res);
    Py_XDECREF(args);
    Py_XDECREF(runner);
    py_module_shutdown();           /* C objects first: Python may hold paths */
    fflush(stdout);
    if (Py_FinalizeEx() < 0 && code == 0)
        code = 1;                   /* flushing stdout failed: say so */
    return code;
}
