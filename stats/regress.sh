#!/bin/sh
# regress.sh - regression checks of the example configs against
# stats/baselines/ (docs/sweeps.md, "Regression baselines").
#
#   regress.sh check BUILDDIR SRCDIR      run every case of baselines/cases.txt
#                                         and compare with NAME.txt: exit 1 if
#                                         any value differs (make regress)
#   regress.sh baselines BUILDDIR SRCDIR  rewrite NAME.txt from fresh runs
#                                         (make baselines; never automatic)
#
# REGRESS_SET="NAME:PATH.PARAM=VALUE ..." adds --set overrides to the named
# cases (the test suite changes a model parameter this way and expects the
# check to fail). REGRESS_BASELINES=DIR reads/writes baselines elsewhere.
set -u
mode=${1:-}; builddir=${2:-.}; srcdir=${3:-.}
case $mode in check|baselines) ;; *)
    echo "usage: regress.sh check|baselines BUILDDIR SRCDIR" >&2; exit 2 ;; esac
IOMMUSIM="$builddir/iommusim"
BASE="${REGRESS_BASELINES:-$srcdir/stats/baselines}"
export PYTHONPATH="$srcdir/python${PYTHONPATH:+:$PYTHONPATH}"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
work=$(mktemp -d "${TMPDIR:-/tmp}/iommusim-regress.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
[ "$mode" = baselines ] && mkdir -p "$BASE"
failed=0; n=0
while read -r name config args; do
    case $name in ''|'#'*) continue ;; esac
    n=$((n + 1))
    sets=
    for s in ${REGRESS_SET:-}; do
        case $s in "$name":*) sets="$sets --set ${s#*:}" ;; esac
    done
    # shellcheck disable=SC2086 # args and sets are word lists on purpose
    if ! "$IOMMUSIM" --outdir "$work/$name" --seed 1 --stats-period 0 -q --no-progress \
            $sets "$srcdir/$config" $args >"$work/$name.out" 2>"$work/$name.err"; then
        echo "regress: $name: the run failed: $(tail -1 "$work/$name.err")"
        failed=$((failed + 1)); continue
    fi
    if [ "$mode" = baselines ]; then
        /usr/bin/python3 -m iommusim.compare --write-values "$work/$name/stats.h5" \
            "$BASE/$name.txt" || exit 2
        echo "baseline: $name ($(($(wc -l <"$BASE/$name.txt") - 1)) values) -> $BASE/$name.txt"
        continue
    fi
    if [ ! -f "$BASE/$name.txt" ]; then
        echo "regress: $name: no baseline $BASE/$name.txt (run 'make baselines')"
        failed=$((failed + 1)); continue
    fi
    "$IOMMUSIM" compare --expect "$srcdir/stats/baselines/expect.txt" "$BASE/$name.txt" \
        "$work/$name/stats.h5" >"$work/$name.cmp" 2>&1
    st=$?
    if [ $st -eq 0 ]; then echo "regress: $name: $(tail -1 "$work/$name.cmp")"
    else
        echo "regress: $name: DIFFERS from $BASE/$name.txt"
        sed 's/^/    /' "$work/$name.cmp"
        failed=$((failed + 1))
    fi
done <"$srcdir/stats/baselines/cases.txt"
[ "$mode" = baselines ] && { [ $failed -eq 0 ] || exit 1; exit 0; }
echo "regress: $n cases, $failed failed"
[ $failed -eq 0 ]
