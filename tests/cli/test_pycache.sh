#!/bin/sh
# test_pycache.sh - the embedded interpreter caches the iommusim package's
# bytecode outside the source tree, and an edited module is never served
# stale from that cache (src/py/py.c, py_cache_dir).
#
# A copy of the package in $TMP/pkg (IOMMUSIM_PYTHONPATH) and a cache in
# $TMP/cache (IOMMUSIM_PYCACHE):
#  - the first run writes the package's .pyc files under the cache, none
#    next to the sources, and the config's directory stays clean;
#  - a run after editing a module (a new function, same file size or not)
#    sees the edit: the cache is checked against each source's mtime and
#    size, as Python does;
#  - IOMMUSIM_PYCACHE empty: nothing is written anywhere;
#  - the config's own imports are not cached (only the package is).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac

mkdir pkg cfg
cp -R "$SRC/python/iommusim" pkg/
rm -rf pkg/iommusim/__pycache__
cat >cfg/mymod.py <<'PY'
VALUE = 7
PY
cat >cfg/probe.py <<'PY'
import sys
import iommusim as sim
import iommusim._objects as o
import mymod
print("cached", o.__cached__)
print("probe", getattr(o, "_h2_probe", lambda: "absent")(), mymod.VALUE)
sys.exit(0)
PY

IOMMUSIM_PYTHONPATH=$TMP/pkg IOMMUSIM_PYCACHE=$TMP/cache \
    expect_status 0 "a run with a bytecode cache" -- "$IOMMUSIM" -q cfg/probe.py
expect_grep "$TMP/out" "^probe absent 7$" "the package imports from the copy"
n=$(find cache -name '_objects.cpython-*.pyc' | wc -l)
[ "$n" -eq 1 ] && ok "the package's bytecode is in the cache" || bad "the package's bytecode is in the cache" "found $n _objects .pyc files under $TMP/cache"
n=$(find pkg cfg -name '*.pyc' | wc -l)
[ "$n" -eq 0 ] && ok "no bytecode next to the sources or the config" || bad "no bytecode next to the sources or the config" "$(find pkg cfg -name '*.pyc')"
n=$(find cache -name 'mymod*' | wc -l)
[ "$n" -eq 0 ] && ok "the config's own modules are not cached" || bad "the config's own modules are not cached" "$(find cache -name 'mymod*')"

# An edit: a new function at the end of the module. The mtime moves on by
# at least a second so that even a coarse file system sees it.
cat >>pkg/iommusim/_objects.py <<'PY'


def _h2_probe():
    return "edited"
PY
touch -d '+2 seconds' pkg/iommusim/_objects.py 2>/dev/null || sleep 1
IOMMUSIM_PYTHONPATH=$TMP/pkg IOMMUSIM_PYCACHE=$TMP/cache \
    expect_status 0 "a run after editing a module" -- "$IOMMUSIM" -q cfg/probe.py
expect_grep "$TMP/out" "^probe edited 7$" "the edited module is used, not its stale bytecode"

rm -rf cache
IOMMUSIM_PYTHONPATH=$TMP/pkg IOMMUSIM_PYCACHE= \
    expect_status 0 "a run with the cache off" -- "$IOMMUSIM" -q cfg/probe.py
expect_grep "$TMP/out" "^probe edited 7$" "the cache off changes nothing else"
n=$(find . -name '*.pyc' | wc -l)
[ "$n" -eq 0 ] && ok "the cache off writes no bytecode" || bad "the cache off writes no bytecode" "$(find . -name '*.pyc' | head -3)"
finish
