#!/bin/sh
# test_smmuv3.sh - the SMMUv3 descriptor from the command line, and
# configs/smmuv3_gem5_defaults.py (gem5's defaults) on a short run, checked
# against relations that follow from the structure (docs/models/smmuv3.md):
#  - every translation looks up the micro TLB first: utlb_lookups =
#    translations (a NIC's stream is stage 1, never bypass);
#  - the main TLB sees exactly the micro TLB's misses: tlb_lookups =
#    utlb_lookups - utlb_hits;
#  - the SMMU TLB is off (gem5's default): smmu_tlb_lookups = 0;
#  - strict: each unmap is one TLBI_NH_VA and one CMD_SYNC (no ATS device):
#    cmd_tlbi_nh_va = cmd_sync = unmaps > 0;
#  - lazy: no per-unmap TLBI_NH_VA; each flush is a TLBI_NH_ASID + SYNC;
#  - with a device TLB (--ats): one CMD_ATC_INV per strict unmap, whose
#    DEVIOTLB_UNMAP reaches the device (commands still queued at the end of
#    the run have not yet: notify <= commands);
#  - stage 2: one TLBI_S2_IPA per strict unmap; nested: no faults (the
#    buffers are inside guest_memory);
#  - 64 KiB granules (--granule, --s2-granule): the OS maps 64 KiB pages
#    and nothing faults, stage 1 and nested; a walk of the 3-level stage-1
#    tables reads at most 3 entries.
# Bad parameters are config errors (exit 2) on one line naming them.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
CFG="$SRC/configs/smmuv3_gem5_defaults.py"

expect_status 0 "--describe SMMUv3" -- "$IOMMUSIM" --describe SMMUv3
for p in utlb_entries tlb_assoc smmu_tlb_enable cfg_lat walk_S1L2 wc_s2_levels \
         ptw_slots ifc_smmu_lat prefetch_enable fault_mode stall_latency sync_time \
         granule s2_granule walk_S1L3 walk_S2L3; do
    expect_grep "$TMP/out" "^  $p " "--describe documents $p"
done

check() { n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
val() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/out"; }

expect_status 0 "gem5 defaults, strict" -- "$IOMMUSIM" "$CFG" --until 200us
tr=$(val translations); ul=$(val utlb_lookups); uh=$(val utlb_hits); tl=$(val tlb_lookups)
un=$(val unmaps); va=$(val cmd_tlbi_nh_va); sy=$(val cmd_sync); sl=$(val smmu_tlb_lookups)
check "translations happen ($tr)" test "${tr:-0}" -gt 0
check "utlb_lookups = translations ($ul, $tr)" test "$ul" -eq "$tr"
check "tlb_lookups = utlb misses ($tl = $ul - $uh)" test "$tl" -eq $((ul - uh))
check "SMMU TLB off: no lookups ($sl)" test "$sl" -eq 0
check "strict: unmaps > 0 ($un)" test "${un:-0}" -gt 0
check "strict: one TLBI_NH_VA per unmap ($va, $un)" test "$va" -eq "$un"
check "strict: one SYNC per unmap ($sy, $un)" test "$sy" -eq "$un"

expect_status 0 "gem5 defaults, lazy" -- "$IOMMUSIM" "$CFG" --until 200us --policy lazy
check "lazy: no TLBI_NH_VA ($(val cmd_tlbi_nh_va))" test "$(val cmd_tlbi_nh_va)" -eq 0
check "lazy: a SYNC per NH_ASID flush" test "$(val cmd_sync)" -eq "$(val cmd_tlbi_nh_asid)"

expect_status 0 "gem5 defaults, ATS" -- "$IOMMUSIM" "$CFG" --until 200us --ats 64
check "ATS: one ATC_INV per strict unmap ($(val cmd_atc_inv), $(val unmaps))" \
    test "$(val cmd_atc_inv)" -eq "$(val unmaps)"
check "ATS: the device TLB heard them ($(val atc_notify) > 0)" test "$(val atc_notify)" -gt 0
check "ATS: no more events than commands" test "$(val atc_notify)" -le "$(val cmd_atc_inv)"

expect_status 0 "gem5 defaults, stage 2" -- "$IOMMUSIM" "$CFG" --until 200us --stage s2
check "stage 2: one TLBI_S2_IPA per unmap" test "$(val cmd_tlbi_s2_ipa)" -eq "$(val unmaps)"
check "stage 2: no faults" test "$(val faults)" -eq 0

expect_status 0 "gem5 defaults, nested" -- "$IOMMUSIM" "$CFG" --until 200us --stage nested
check "nested: no faults (buffers inside guest_memory)" test "$(val faults)" -eq 0
check "nested: walks read more than stage 1's one-read warm walks" \
    test "$(val walk_reads)" -gt "$(val walks)"

expect_status 0 "64 KiB granule, stage 1" -- "$IOMMUSIM" "$CFG" --until 200us --granule 64KiB
check "64K: no faults" test "$(val faults)" -eq 0
check "64K: walks happen ($(val walks))" test "$(val walks)" -gt 0
check "64K: at most 3 reads per walk" test "$(val walk_reads)" -le $((3 * $(val walks)))

expect_status 0 "64 KiB granules, nested" -- "$IOMMUSIM" "$CFG" --until 200us --stage nested \
    --granule 64KiB --s2-granule 64KiB
check "64K nested: no faults" test "$(val faults)" -eq 0

cat > bad.py <<'PY'
import iommusim as sim
root = sim.Root()
root.sys = s = sim.System()
s.mem = sim.Memory()
s.smmu = sim.SMMUv3(memory=s.mem, tlb_entries=2048, tlb_assoc=3)
sim.simulate(until="1us")
PY
expect_status 2 "main TLB geometry error" -- "$IOMMUSIM" bad.py
expect_grep "$TMP/err" "tlb_assoc" "the error names tlb_assoc"

sed 's/tlb_entries=2048, tlb_assoc=3/granule="8KiB"/' bad.py > bad_granule.py
expect_status 2 "an 8 KiB granule is a config error" -- "$IOMMUSIM" bad_granule.py
expect_grep "$TMP/err" "granule.*8192 bytes.*4KiB, 16KiB or 64KiB" "the error names granule and 8KiB"
check "the error is one line" test "$(wc -l < "$TMP/err")" -eq 1

finish
