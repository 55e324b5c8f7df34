#!/bin/sh
# test_config_errors.sh - every way a config run can go wrong gives a
# message naming what and where, one line per problem, and a non-zero exit:
# 2 for config and usage errors, 130 for Ctrl-C.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
C="$top_srcdir/tests/cli/configs"
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $C in /*) ;; *) C="$OLDPWD/$C" ;; esac

expect_line() {     # FILE EXACT-LINE NAME
    if grep -Fxq -- "$2" "$1"; then ok "$3"; else
        bad "$3" "no line '$2' in: $(head -c 600 "$1")"; fi
}
expect_lines() {    # FILE COUNT NAME: exactly COUNT lines
    n=$(wc -l <"$1")
    if [ "$n" -eq "$2" ]; then ok "$3"; else bad "$3" "$n lines: $(head -c 600 "$1")"; fi
}

# A Python exception: the traceback shows the config's frames only.
expect_status 2 "exception in the config exits 2" -- "$IOMMUSIM" "$C/err_exception.py"
expect_grep "$TMP/err" '^Traceback \(most recent call last\):$' "traceback printed"
expect_grep "$TMP/err" 'err_exception.py", line 7, in build$' "traceback names the user's frame"
expect_grep "$TMP/err" 'err_exception.py", line 10, in <module>$' "traceback names the calling line"
expect_line "$TMP/err" "ValueError: boom in the user's code" "exception message"
grep -Eq 'runpy|_runner\.py|iommusim/_objects' "$TMP/err" && \
    bad "no runner or package frames" "$(cat "$TMP/err")" || ok "no runner or package frames"

# Every parameter problem of the tree at once, one line each.
expect_status 2 "bad parameters exit 2" -- "$IOMMUSIM" "$C/err_params.py"
expect_line "$TMP/err" "iommusim: system.src: no parameter 'perod' (did you mean 'period'?)" \
    "unknown parameter, with a suggestion"
expect_line "$TMP/err" "iommusim: system.bad.period: missing or unknown unit (got '80', expected a time such as '80ns' or '12cycles' (units ps, ns, us, ms, s, cycles))" \
    "'80' for a latency names the expected form"
expect_line "$TMP/err" "iommusim: system.bad.count: value too small (got '-1', expected at least 0)" \
    "out of range"
expect_line "$TMP/err" "iommusim: system.clk.frequency: missing or unknown unit (got '2 Ghz', expected a frequency such as '2GHz' (units Hz, kHz, MHz, GHz, THz))" \
    "bad unit"
expect_lines "$TMP/err" 4 "all four problems reported, nothing else"

# References.
expect_status 2 "bad references exit 2" -- "$IOMMUSIM" "$C/err_refs.py"
expect_grep "$TMP/err" "^iommusim: system\.a\.clock: refers to a ClockDomain that is not in the tree" \
    "reference to an object outside the tree"
expect_line "$TMP/err" "iommusim: system.b.clock: refers to the wrong kind of object (got PeriodicSource 'system.other', expected a ClockDomain)" \
    "reference to the wrong kind of object"
expect_line "$TMP/err" "iommusim: system.c.period: given in cycles but no clock is set (expected a time such as '10ns', or set clock to a ClockDomain)" \
    "a model's own constraint (validate hook)"
expect_lines "$TMP/err" 3 "all three reference problems reported"

# --set mistakes.
expect_status 2 "--set wrong type" -- "$IOMMUSIM" --set system.src.count=abc "$C/periodic.py"
expect_line "$TMP/err" "iommusim: system.src.count: not an integer (got 'abc', expected an integer such as 42 or 0x1000) [--set]" \
    "--set wrong type: one line naming path, value and expected form"
expect_status 2 "--set bad unit" -- "$IOMMUSIM" --set system.src.period=5 "$C/periodic.py"
expect_grep "$TMP/err" "^iommusim: system\.src\.period: missing or unknown unit \(got '5'" "--set bad unit"
expect_status 2 "--set unknown path" -- "$IOMMUSIM" --set system.scr.period=1ns "$C/periodic.py"
expect_line "$TMP/err" "iommusim: --set system.scr.period=1ns: no object 'system.scr' (did you mean 'system.src'?)" \
    "--set unknown path"
expect_status 2 "--set unknown parameter" -- "$IOMMUSIM" --set system.src.perid=1ns "$C/periodic.py"
expect_line "$TMP/err" "iommusim: --set system.src.perid=1ns: system.src: no parameter 'perid' (did you mean 'period'?)" \
    "--set unknown parameter"
expect_status 2 "--set without =" -- "$IOMMUSIM" --set system.src.period "$C/periodic.py"
expect_line "$TMP/err" "iommusim: --set: malformed override (got 'system.src.period', expected PATH.PARAM=VALUE)" \
    "--set without ="
expect_status 2 "--set ref to a missing object" -- "$IOMMUSIM" --set system.src.clock=system.clock "$C/periodic.py"
expect_grep "$TMP/err" "^iommusim: system\.src\.clock: refers to no object of the tree \(got 'system\.clock'.*did you mean 'system\.clk'" \
    "--set reference to a missing object"

expect_status 2 "--set bad list item" -- "$IOMMUSIM" --set "system.t.times=1ns,80" "$C/trace.py"
expect_line "$TMP/err" "iommusim: system.t.times: item 2 of 2: missing or unknown unit (got '80', expected a time such as '80ns' or '12cycles' (units ps, ns, us, ms, s, cycles)) [--set]" \
    "a bad list item is named by position"

# Files, options, usage.
expect_status 2 "missing config" -- "$IOMMUSIM" "$TMP/nonexistent.py"
expect_line "$TMP/err" "iommusim: $TMP/nonexistent.py: cannot open the config (No such file or directory)" \
    "missing config file: one line"
expect_status 2 "directory as config" -- "$IOMMUSIM" "$TMP"
expect_status 2 "no config" -- "$IOMMUSIM" --seed 3
expect_grep "$TMP/err" "^iommusim: no config given" "no config: says so"
expect_status 2 "bad seed" -- "$IOMMUSIM" --seed x1 "$C/periodic.py"
expect_line "$TMP/err" "iommusim: --seed: not a seed (got 'x1', expected an integer from 0 to 2^64-1)" "bad --seed"
expect_status 2 "unknown option" -- "$IOMMUSIM" --frobnicate "$C/periodic.py"
expect_status 2 "--describe unknown model" -- "$IOMMUSIM" --describe Nope
expect_lines "$TMP/err" 1 "--describe unknown model: one line"

# An output that cannot be written is a run-time error (status 1).
: >"$TMP/afile"
expect_status 1 "unwritable outdir exits 1" -- "$IOMMUSIM" --outdir "$TMP/afile/sub" "$C/periodic.py"
expect_line "$TMP/err" "iommusim: $TMP/afile/sub/config.json: cannot write (Not a directory)" \
    "unwritable outdir: one line naming the file"

# Config-level mistakes.
expect_status 2 "never calls simulate" -- "$IOMMUSIM" "$C/err_nosim.py"
expect_line "$TMP/err" "iommusim: warning: $C/err_nosim.py never called simulate(); nothing was simulated" \
    "never calls simulate(): warned"
expect_status 2 "until without unit" -- "$IOMMUSIM" "$C/err_until.py"
expect_grep "$TMP/err" "^iommusim: simulate\(until='10'\): missing or unknown unit \(got '10', expected a time" "until without a unit"
expect_status 2 "no Root" -- "$IOMMUSIM" "$C/err_noroot.py"
expect_grep "$TMP/err" "^iommusim: no Root" "no Root: says how to make one"
expect_status 3 "sys.exit(3) is the exit status" -- "$IOMMUSIM" "$C/exit3.py"
expect_status 2 "argparse usage error exits 2" -- "$IOMMUSIM" "$C/periodic.py" --bogus
expect_grep "$TMP/err" "unrecognized arguments: --bogus" "argparse explains"

# Ctrl-C while simulating: a clean stop, one line, status 130 (lib.sh's
# interrupt_run sends the signal).
interrupt_run -- "$IOMMUSIM" --progress "$C/long.py"
expect_line "$TMP/int.out" "130" "Ctrl-C during simulate() exits 130"
expect_grep "$TMP/int.err" "^iommusim: interrupted at [0-9.]+ [mun]?s simulated time \([0-9]+ events\); stopped$" \
    "Ctrl-C: one line saying where it stopped"
grep -q Traceback "$TMP/int.err" && bad "Ctrl-C: no traceback" || ok "Ctrl-C: no traceback"

# Progress is on by default when stderr is a terminal (a pseudo-terminal here).
$PY - "$IOMMUSIM" "$C/periodic.py" >"$TMP/pty.out" 2>&1 <<'PYEOF'
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
data = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
p.wait()
sys.stdout.write(data.decode())
PYEOF
expect_grep "$TMP/pty.out" 'iommusim: sim 1 us \(100\.0% of 1 us\), [0-9.e+]+ events/s, host' \
    "progress line by default on a terminal"
finish
