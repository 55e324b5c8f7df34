#!/bin/sh
# test_virtio_iommu.sh - the VirtioIOMMU descriptor from the command line and
# configs/virtio_iommu.py against figures derived from its parameters.
#
# Derivations (default costs: a kick is a 5 us round trip, each request
# 1 us of host work, one request at a time):
#  - 1 Gb/s of 1500-byte packets (1520 bytes of wire each) is
#    1e9 / (1520 x 8) = 82237 packets/s; a NIC that keeps up delivers
#    1e9 x 1500 / 1520 = 0.9868 Gb/s of payload.
#  - lazy: one MAP request (6 us) per packet, so the queue is busy
#    82237 x 6 us = 0.493 of the time and keeps up; unmaps wait in the one
#    shared flush queue (32768 entries, 1000 ms), so over 20 ms (about 1650
#    packets) none reaches the device: 0 UNMAP requests and 0 flushes.
#  - strict: a MAP and an UNMAP request per packet, equal in number,
#    82237 x 12 us = 0.987 of the queue.
#  - passthrough: no request at all.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
CFG="$SRC/configs/virtio_iommu.py"

expect_status 0 "--describe VirtioIOMMU" -- "$IOMMUSIM" --describe VirtioIOMMU
for p in granule aw_bits boot_bypass round_trip map_work unmap_work attach_work \
         probe_work xlate_latency; do
    expect_grep "$TMP/out" "$p" "--describe documents $p"
done
expect_grep "$TMP/out" "5us" "--describe shows the round trip's default"
expect_grep "$TMP/out" "request_latency" "--describe lists the readouts"

expect_status 0 "configs/virtio_iommu.py runs" -- \
    "$IOMMUSIM" -q --no-progress --outdir run1 "$CFG" --warmup 10ms --until 30ms
# field N of the row of POLICY
field() { awk -v p="$1" -v n="$2" '$1 == p { print $n }' "$TMP/out"; }
near() {    # near NAME GOT WANT TOL
    if [ -n "$2" ] && awk -v g="$2" -v w="$3" -v t="$4" \
        'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then ok "$1 (got $2)"
    else bad "$1" "got '$2', expected $3 +- $4; out: $(head -c 600 "$TMP/out")"; fi
}
near "lazy keeps up with 1 Gb/s: 0.9868 Gb/s of payload" "$(field lazy 2)" 0.9868 0.01
near "lazy: the request queue is busy 0.493 of the time" "$(field lazy 8)" 0.493 0.015
near "lazy: no UNMAP request within the shared queue's reach" "$(field lazy 6)" 0 0
near "lazy: no flush" "$(field lazy 10)" 0 0
near "strict: the request queue is busy 0.987 of the time" "$(field strict 8)" 0.987 0.03
s_map=$(field strict 5); s_unmap=$(field strict 6)
near "strict: one UNMAP per MAP" "$s_unmap" "${s_map:-x}" 1
near "passthrough: no map request" "$(field passthrough 5)" 0 0
near "passthrough: no kick" "$(field passthrough 7)" 0 0

# Bad values: one line naming the parameter, exit 2.
expect_status 2 "a 64 KiB granule under a DmaDevice is refused" -- \
    "$IOMMUSIM" -q --no-progress --outdir out2 --set lazy.iommu.granule=64KiB "$CFG" \
    --warmup 1us --until 2us
expect_grep "$TMP/err" "lazy.*granule.*4KiB" "the error names the granule and what a device needs"
expect_status 2 "a granule that is not a power of two is refused" -- \
    "$IOMMUSIM" -q --no-progress --outdir out3 --set lazy.iommu.granule=12KiB "$CFG" \
    --warmup 1us --until 2us
expect_grep "$TMP/err" "lazy.iommu.granule" "the error names lazy.iommu.granule"
expect_status 2 "aw_bits at the granule is refused" -- \
    "$IOMMUSIM" -q --no-progress --outdir out4 --set strict.iommu.aw_bits=12 "$CFG" \
    --warmup 1us --until 2us
expect_grep "$TMP/err" "strict.iommu.aw_bits" "the error names strict.iommu.aw_bits"
finish
