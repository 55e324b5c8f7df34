#!/bin/sh
# summary.sh BUILDDIR - one closing line for CI after `make check`.
#
# Automake keeps each test program's output in a .log file. This adds up the
# CUnit run summaries ("tests N N N N ...") and the "N passed, N failed" lines
# of the script tests, shows the failing logs, and ends with the total.
b=${1:-.}
logs=$(find "$b/tests" -name '*.log' ! -name 'test-suite.log' 2>/dev/null | sort)
[ -n "$logs" ] || { echo "summary: no test logs under $b/tests (did make check run?)"; echo "0 passed, 1 failed"; exit 1; }
total_pass=0; total_fail=0
for log in $logs; do
    trs=${log%.log}.trs
    res=$(sed -n 's/^:test-result: //p' "$trs" 2>/dev/null | head -n 1)
    # CUnit:  "               tests     45     45     45      0        0"
    cu=$(awk '$1 == "tests" && NF >= 5 { print $4, $5 }' "$log" | tail -n 1)
    sh=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | awk '{ print $1, $3 }')
    set -- ${cu:-${sh:-0 0}}
    p=$1; f=$2
    if [ "$res" != "PASS" ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed before its summary
    if [ -z "$cu$sh" ] && [ "$res" = "PASS" ]; then           # passed without counting
        f=1; res="FAIL(no summary line)"
    fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    printf '%-6s %-40s %s passed, %s failed\n' "${res:-?}" "${log#$b/}" "$p" "$f"
    if [ "$res" != "PASS" ]; then
        echo "---- $log (last 40 lines) ----"; tail -n 40 "$log"; echo "----"
    fi
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
