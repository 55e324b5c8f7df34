#!/bin/sh
# test_bench_compare.sh - bench/compare on figure files in the format make
# bench writes (bench/run-bench's raw lines), with constructed changes:
# a rate down 20% is flagged at the default 10% threshold, one down 5% or
# up is not, counts do not name figures, and bad input exits 2.
. "${top_srcdir:-.}/tests/cli/lib.sh"

CMP="$top_srcdir/bench/compare"
cat >"$TMP/old.txt" <<'END'
hold N=100 engine    events/s=1.000e+07 peak_rss_kib=1304
hold N=100 reference events/s=2.000e+07 peak_rss_kib=1048
ratio N=100 engine/reference=0.50
iommu iotlb_lookup 64xfull lookups=1000000 lookups/s=5.0e+07 hit_rate=0.901 target>=5e+07 PASS
quickstart until=4ms requests=263150 seconds=0.1246 requests/s=2.0e+06
END
# engine -20%, reference -5%, lookups +10% with a different count, quickstart the same.
cat >"$TMP/new.txt" <<'END'
hold N=100 engine    events/s=8.000e+06 peak_rss_kib=1304
hold N=100 reference events/s=1.900e+07 peak_rss_kib=1048
iommu iotlb_lookup 64xfull lookups=2000000 lookups/s=5.5e+07 hit_rate=0.9 target>=5e+07 PASS
quickstart until=4ms requests=263150 seconds=0.1246 requests/s=2.0e+06
stats D=100 final_s=0.0488 things/s=5
END
expect_status 1 "a 20% slowdown is flagged" -- "$CMP" "$TMP/old.txt" "$TMP/new.txt"
expect_grep "$TMP/out" '^hold N=100 engine events/s +1e\+07 +8e\+06 +-20\.0% +SLOWER$' "engine row flagged"
expect_grep "$TMP/out" '^hold N=100 reference events/s +2e\+07 +1\.9e\+07 +-5\.0%$' "5% down: not flagged"
expect_grep "$TMP/out" '^iommu iotlb_lookup 64xfull lookups/s +5e\+07 +5\.5e\+07 +\+10\.0%$' \
    "matched across different counts; faster is fine"
expect_grep "$TMP/out" '^note: only in .*new\.txt: stats D=100 things/s$' "a new figure is a note"
expect_grep "$TMP/out" '^1 of 4 rates slower by more than 10%$' "summary"
expect_status 0 "--threshold 25 accepts it" -- "$CMP" --threshold 25 "$TMP/old.txt" "$TMP/new.txt"
expect_status 1 "--threshold 4 flags the 5% too" -- "$CMP" --threshold 4 "$TMP/old.txt" "$TMP/new.txt"
expect_grep "$TMP/out" '^2 of 4 rates slower' "two flagged at 4%"
expect_status 0 "a file against itself" -- "$CMP" "$TMP/old.txt" "$TMP/old.txt"
expect_status 2 "missing file" -- "$CMP" "$TMP/old.txt" "$TMP/none.txt"
expect_grep "$TMP/err" 'none\.txt: No such file or directory' "missing file named"
echo "no figures here" >"$TMP/empty.txt"
expect_status 2 "a file without rates" -- "$CMP" "$TMP/empty.txt" "$TMP/old.txt"
finish
