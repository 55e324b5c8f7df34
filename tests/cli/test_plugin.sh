#!/bin/sh
# test_plugin.sh - out-of-tree models (issue 10): `make install DESTDIR=...`
# installs the headers, the shared core and iommusim.pc; the example plugin
# (examples/plugin/), copied out of the tree, builds against that install
# with nothing but pkg-config; `iommusim --plugin` (and IOMMUSIM_PLUGIN_PATH)
# then lists, describes and runs it like a built-in model, with its counters
# in stats.h5. The loader refuses, with one line and exit status 2, a plugin
# built for another API version, one without its entry point, one with an
# unresolved symbol, one whose registration fails, a missing file and a file
# that is no shared object.
. "${top_srcdir:-.}/tests/cli/lib.sh"
PY=/usr/bin/python3
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$PWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$PWD/$top_srcdir" ;; esac
case $top_builddir in /*) BLD=$top_builddir ;; *) BLD="$PWD/$top_builddir" ;; esac
unset IOMMUSIM_PLUGIN_PATH
cd "$TMP" || exit 1

# --- 1. A staged install ------------------------------------------------------
# A make of its own (not the jobserver of the `make check` running us).
STAGE="$TMP/stage"
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BLD" install DESTDIR="$STAGE" \
        >install.log 2>&1; then
    ok "make install DESTDIR=..."
else
    bad "make install DESTDIR=..." "$(tail -c 600 install.log)"
    finish; exit
fi
PC=$(find "$STAGE" -name iommusim.pc | head -n 1)
INC=$(find "$STAGE" -path '*/include/iommusim' -type d | head -n 1)
LIB=$(find "$STAGE" -name 'libiommusim.so.*' | head -n 1)
[ -n "$PC" ] && ok "iommusim.pc installed" || bad "iommusim.pc installed" "$(find "$STAGE" | head)"
[ -n "$LIB" ] && ok "the shared core installed" || bad "the shared core installed"
missing=
for h in plugin/plugin.h iommu/iommu.h iommu/domain.h iommu/models/models.h engine/sim.h \
         engine/event.h engine/error.h engine/object.h engine/param.h engine/resource.h \
         stats/objstats.h stats/registry.h mem/pgtable.h; do
    [ -f "$INC/$h" ] || missing="$missing $h"
done
[ -z "$missing" ] && ok "the model API headers installed" \
    || bad "the model API headers installed" "missing:$missing"
# The binary that `make check` tests is the one that links the shared core.
if [ -x "$BLD/.libs/iommusim" ] && readelf -d "$BLD/.libs/iommusim" 2>/dev/null |
        grep -q 'NEEDED.*libiommusim\.so'; then
    ok "iommusim links libiommusim.so"
else
    bad "iommusim links libiommusim.so" "$(readelf -d "$BLD/.libs/iommusim" 2>&1 | head -5)"
fi

PKG_CONFIG_PATH=$(dirname "$PC"); PKG_CONFIG_SYSROOT_DIR=$STAGE
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
flags=$(pkg-config --cflags --libs iommusim 2>&1)
case $flags in
    *"-I$INC"*"-liommusim"*) ok "pkg-config --cflags --libs iommusim: $flags" ;;
    *) bad "pkg-config --cflags --libs iommusim" "got: $flags" ;;
esac

# --- 2. The example, built out of the tree ----------------------------------------
cp -R "$SRC/examples/plugin" ex && chmod -R u+w ex
# -fvisibility=hidden: plugin.h exports the two plugin symbols regardless.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C ex CFLAGS="-O2 -g -fvisibility=hidden" \
        >ex/build.log 2>&1 && [ -f ex/fixed_iommu.so ]; then
    ok "the example plugin builds with pkg-config (-Wall -Wextra -Werror, hidden visibility)"
else
    bad "the example plugin builds" "$(head -c 800 ex/build.log)"
    finish; exit
fi
P="$TMP/ex/fixed_iommu.so"

expect_status 2 "without the plugin there is no FixedLatencyIOMMU" -- \
    "$IOMMUSIM" --describe FixedLatencyIOMMU
expect_status 0 "--plugin PATH --describe FixedLatencyIOMMU" -- \
    "$IOMMUSIM" --plugin "$P" --describe FixedLatencyIOMMU
expect_grep "$TMP/out" '^  latency +latency, default 50ns' "--describe: its parameter, type and default"
expect_grep "$TMP/out" '^  translations +\[requests\]' "--describe: its readouts"
expect_status 0 "--describe before --plugin on the line" -- \
    "$IOMMUSIM" --describe FixedLatencyIOMMU --plugin "$P"
expect_status 0 "--list-models with the plugin" -- "$IOMMUSIM" --plugin "$P" --list-models
expect_grep "$TMP/out" '^FixedLatencyIOMMU +An IOMMU whose every translation' "--list-models lists it"
expect_grep "$TMP/out" '^GenericIOMMU ' "--list-models still lists the built-in models"
expect_status 0 "IOMMUSIM_PLUGIN_PATH=:DIR (empty items skipped)" -- \
    env IOMMUSIM_PLUGIN_PATH=":$TMP/ex" "$IOMMUSIM" --describe FixedLatencyIOMMU
mkdir empty
expect_status 0 "IOMMUSIM_PLUGIN_PATH=EMPTYDIR:FILE, and --plugin of the same file twice" -- \
    env IOMMUSIM_PLUGIN_PATH="$TMP/empty:$P" "$IOMMUSIM" --plugin "$P" \
    --plugin ./ex/fixed_iommu.so --describe FixedLatencyIOMMU
# --params-markdown documents what ships (docs/params.md), never a plugin.
"$IOMMUSIM" --plugin "$P" --params-markdown >md.txt 2>&1
if grep -q FixedLatencyIOMMU md.txt; then bad "--params-markdown leaves plugins out"
else ok "--params-markdown leaves plugins out"; fi

# --- 3. A config that uses it, and its statistics -----------------------------
# FixedLatencyIOMMU answers every request exactly `latency` after it arrives:
# the device's mean translation latency is that latency to the picosecond.
# In a closed loop every completed request was translated once, and at most
# `tags` (64, DmaDevice's default) more are in flight at the end:
# 0 <= translations - completed <= 64. The footprint is mapped once
# (persistent policy, one dma_map): maps = 1; nothing faults.
# (The embedded interpreter keeps some memory until exit: no leak check for
# config runs under ASan, as in the other config tests.)
NOLEAK="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
for lat in 50ns:50000 120ns:120000; do
    l=${lat%%:*}; ps=${lat#*:}
    expect_status 0 "config with FixedLatencyIOMMU (latency $l)" -- \
        env ASAN_OPTIONS="$NOLEAK" "$IOMMUSIM" -q --plugin "$P" --outdir "o$l" \
        ex/fixed_iommu.py --latency "$l"
    if $PY - "o$l/stats.h5" "$ps" >py.out 2>&1 <<'PYEOF'
import sys
import h5py
f = h5py.File(sys.argv[1], "r")
st = f["stats/system/iommu"]
tr = st["translations"]
assert tr.attrs["kind"] == "counter", dict(tr.attrs)
t = int(tr[-1]); faults = int(st["faults"][-1]); maps = int(st["maps"][-1])
d = f["stats/system/dev"]
done = int(d["read_requests"][-1]) + int(d["write_requests"][-1])
lat = float(d["xlate_lat_mean"][-1])
assert done > 100, done
assert 0 <= t - done <= 64, (t, done)
assert faults == 0 and maps == 1, (faults, maps)
assert lat == float(sys.argv[2]), (lat, sys.argv[2])
PYEOF
    then ok "stats.h5 ($l): translations counter, faults 0, maps 1, mean translation $l"
    else bad "stats.h5 ($l)" "$(head -c 600 py.out)"; fi
done

# --- 4. Plugins the loader refuses ------------------------------------------------
# Each variant of tests/plugin/bad_plugin.c, built the same way.
CFL=$(pkg-config --cflags iommusim); LIBS=$(pkg-config --libs iommusim)
for v in OTHER_VERSION NO_INIT UNDEFINED DUP_NAME INIT_FAILS; do
    # shellcheck disable=SC2086
    cc -std=c11 -Wall -Wextra -Werror -D$v $CFL -fPIC -shared -o "bad_$v.so" \
        "$SRC/tests/plugin/bad_plugin.c" $LIBS >"cc_$v.log" 2>&1 ||
        bad "build bad_plugin.c -D$v" "$(head -c 400 "cc_$v.log")"
done
VER=$(sed -n 's/^#define IOMMUSIM_PLUGIN_API_VERSION \([0-9][0-9]*\).*/\1/p' "$INC/plugin/plugin.h")
NEXT=$((VER + 1))
printf 'not a shared object\n' >notelf.so

# refused NAME REGEX -- ARGS...: exit 2, exactly one line on stderr, matching REGEX
refused() {
    name=$1; re=$2; shift 3
    "$IOMMUSIM" "$@" --describe GenericIOMMU >out 2>err; st=$?
    if [ "$st" -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -Eq -- "$re" err; then
        ok "$name: $(cat err)"
    else
        bad "$name" "exit $st, stderr: $(head -c 500 err)"
    fi
}
refused "another API version" \
    "^iommusim: --plugin: bad_OTHER_VERSION\.so: built for plugin API version $NEXT, but this iommusim has plugin API version $VER " \
    -- --plugin bad_OTHER_VERSION.so
refused "no entry point" \
    '^iommusim: --plugin: bad_NO_INIT\.so: not an iommusim plugin \(no symbol iommusim_plugin_init' \
    -- --plugin bad_NO_INIT.so
refused "an unresolved symbol" \
    '^iommusim: --plugin: bad_UNDEFINED\.so: cannot load the plugin \(.*iommusim_no_such_function' \
    -- --plugin bad_UNDEFINED.so
refused "registration fails: a built-in model's name" \
    '^iommusim: --plugin: bad_DUP_NAME\.so: registration failed: model GenericIOMMU: the name is taken \(a built-in model\)$' \
    -- --plugin bad_DUP_NAME.so
refused "registration fails: init reports an error" \
    '^iommusim: --plugin: bad_INIT_FAILS\.so: registration failed: the device file this model needs is missing$' \
    -- --plugin bad_INIT_FAILS.so
refused "a missing file" \
    '^iommusim: --plugin: nosuch\.so: cannot open the plugin \(No such file or directory\)$' \
    -- --plugin nosuch.so
refused "not a shared object" '^iommusim: --plugin: notelf\.so: cannot load the plugin \(' \
    -- --plugin notelf.so
printf 'int not_a_plugin(void);\nint not_a_plugin(void) { return 0; }\n' >plain.c
cc -fPIC -shared -o plain.so plain.c >/dev/null 2>&1 || bad "build plain.so"
refused "a shared object that is no plugin" \
    '^iommusim: --plugin: plain\.so: not an iommusim plugin \(no symbol iommusim_plugin_api_version' \
    -- --plugin plain.so
IOMMUSIM_PLUGIN_PATH="$P:$TMP/bad_OTHER_VERSION.so"; export IOMMUSIM_PLUGIN_PATH
refused "IOMMUSIM_PLUGIN_PATH with a bad plugin" \
    "^iommusim: IOMMUSIM_PLUGIN_PATH: .*bad_OTHER_VERSION\.so: built for plugin API version $NEXT" --
IOMMUSIM_PLUGIN_PATH="$TMP/no-such-dir:$P"
refused "IOMMUSIM_PLUGIN_PATH with a missing item" \
    '^iommusim: IOMMUSIM_PLUGIN_PATH: .*/no-such-dir: cannot open the plugin \(No such file or directory\)$' --
unset IOMMUSIM_PLUGIN_PATH
# A refused plugin stops the run before the config runs.
expect_status 2 "a config run with a refused plugin stops before the config" -- \
    env ASAN_OPTIONS="$NOLEAK" "$IOMMUSIM" -q --plugin bad_INIT_FAILS.so --outdir obad \
    ex/fixed_iommu.py
[ ! -e obad/stats.h5 ] && ok "no stats.h5 after a refused plugin" \
    || bad "no stats.h5 after a refused plugin"

finish
