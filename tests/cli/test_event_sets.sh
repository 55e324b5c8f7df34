#!/bin/sh
# test_event_sets.sh - machines that share no object run in event sets of
# their own (engine/object.h), and that changes no statistic: the vfio_nic
# config's four machines, with periodic dumps, give the same dumps and the
# same printout as with --one-event-set, which runs them all in one set.
. "${top_srcdir:-.}/tests/cli/lib.sh"
enter_tmp

run() {   # run OUTDIR [OPTION]: vfio_nic.py for 4 ms, a dump every 250 us
    "$IOMMUSIM" -v -v --no-progress --outdir "$1" --stats-period 250us ${2:-} \
        "$SRC/configs/vfio_nic.py" --until 4ms
}

expect_status 0 "four machines in their own event sets" -- run sets
cp "$TMP/out" sets.out
expect_grep "$TMP/err" "instantiated [0-9]+ objects in 4 event sets" "-vv names 4 event sets"
expect_status 0 "the same in one event set" -- run one --one-event-set
cp "$TMP/out" one.out
expect_grep "$TMP/err" "instantiated [0-9]+ objects in 1 event set;" "-vv names 1 event set"
if cmp -s sets.out one.out; then ok "the same printout"
else bad "the same printout" "$(diff sets.out one.out | head -5)"; fi

"$IOMMUSIM" stats export sets/stats.h5 --csv > sets.csv
"$IOMMUSIM" stats export one/stats.h5 --csv > one.csv
# 4 ms in dumps every 250 us: 16 periodic dumps (the last at 4 ms itself,
# which the final dump does not repeat).
dumps=$(awk -F, 'NR > 1 { print $1 }' sets.csv | sort -u | wc -l)
check "16 dumps (got $dumps)" "$dumps == 16"
if [ -s sets.csv ] && cmp -s sets.csv one.csv; then ok "every dump of every statistic identical"
else bad "every dump of every statistic identical" "$(diff sets.csv one.csv | head -5)"; fi

# --- Threads: the sets on 1 or 3 threads, the same dumps again -----------------
expect_status 0 "--threads 1" -- run t1 "--threads 1"
expect_status 0 "--threads 3" -- run t3 "--threads 3"
expect_grep "$TMP/err" "^iommusim: 4 event sets on 3 threads$" "-vv: the sets ran on 3 threads"
"$IOMMUSIM" stats export t1/stats.h5 --csv > t1.csv
"$IOMMUSIM" stats export t3/stats.h5 --csv > t3.csv
if [ -s t1.csv ] && cmp -s t1.csv one.csv && cmp -s t3.csv one.csv; then
    ok "every dump identical on 1 and 3 threads"
else bad "every dump identical on 1 and 3 threads" "$(diff t1.csv t3.csv | head -5)"; fi
expect_status 2 "--threads 0 refused" -- "$IOMMUSIM" --threads 0 "$SRC/configs/vfio_nic.py"
expect_grep "$TMP/err" "^iommusim: --threads: not a thread count \(got '0', expected an integer from 1 to 1024\)$" \
    "--threads 0: one line naming the value"

# --- Ctrl-C while the sets run on threads: stops, keeps what was measured ----
interrupt_run -- "$IOMMUSIM" --progress --threads 2 --outdir int "$SRC/configs/vfio_nic.py" \
    --until 10s
expect_grep "$TMP/int.out" "^130$" "Ctrl-C on threads: exit 130"
expect_grep "$TMP/int.err" "statistics up to the stop kept in int/stats.h5 \([0-9]+ dumps, marked incomplete\)" \
    "Ctrl-C on threads: the statistics kept, marked incomplete"
"$IOMMUSIM" stats show int/stats.h5 'passthrough.nic.completed' >"$TMP/out" 2>&1 \
    && ok "Ctrl-C on threads: stats.h5 readable" || bad "Ctrl-C on threads: stats.h5 readable" "$(cat "$TMP/out")"
finish
