#!/bin/sh
# test_demo.sh - the default example: the engine demo runs, reports what it
# did, and its M/D/1 mean wait agrees with Pollaczek-Khinchine.
. "${top_srcdir:-.}/tests/cli/lib.sh"

expect_status 0 "demo runs" -- "$IOMMUSIM" demo --time 2000
expect_grep "$TMP/out" '^  events processed +[0-9]+' "demo reports events processed"
expect_grep "$TMP/out" 'exit: limit' "demo runs to its time limit"

# rho = 0.8, D = 8 ns: Wq = 0.8 * 8 / (2 * 0.2) = 16 ns. Over 2 ms (~2e5
# requests, strongly correlated waits) the estimate's spread is under 1 ns;
# accept 16 +- 2 ns.
wq=$(sed -n 's/^  mean wait *\([0-9.]*\) ns.*/\1/p' "$TMP/out")
if awk -v w="$wq" 'BEGIN { exit !(w > 14 && w < 18) }'; then ok "M/D/1 mean wait ($wq ns) near 16 ns"
else bad "M/D/1 mean wait" "got '$wq', expected 16 +- 2 ns"; fi

# Same seed, same output (host timing lines aside).
"$IOMMUSIM" demo --time 200 --seed 5 | grep -v 'host time' >"$TMP/a"
"$IOMMUSIM" demo --time 200 --seed 5 | grep -v 'host time' >"$TMP/b"
if cmp -s "$TMP/a" "$TMP/b"; then ok "demo is deterministic"; else bad "demo is deterministic"; fi

expect_status 2 "unstable queue is refused" -- "$IOMMUSIM" demo --gap 5 --service 8
expect_grep "$TMP/err" 'utilisation' "refusal names the utilisation"
expect_status 2 "bad number is refused" -- "$IOMMUSIM" demo --gap ten
expect_grep "$TMP/err" "--gap: expected a positive number \(got 'ten'\)" "bad number message"
expect_status 2 "unknown command" -- "$IOMMUSIM" frobnicate
expect_status 0 "--help" -- "$IOMMUSIM" --help
expect_grep "$TMP/out" '^usage: iommusim' "--help prints usage"
expect_status 0 "--version" -- "$IOMMUSIM" --version
expect_grep "$TMP/out" '^iommusim [0-9]+\.[0-9]+' "--version prints a version"
finish
