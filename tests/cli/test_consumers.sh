#!/bin/sh
# test_consumers.sh - the notifier users from configs: VfioShadow's config
# errors are one line naming the object and the reason, and
# configs/vfio_nic.py's shadow costs match the worked example of
# docs/consumers.md.
#
# Worked example (defaults): per packet one MAP of one 4 KiB page,
# map_cost + pin_cost = 2 + 0.25 = 2.25 us, and one UNMAP, unmap_cost + the
# host VT-d's page-selective invalidation and wait (0.2 + 0.1 us) +
# unpin_cost = 2 + 0.3 + 0.1 = 2.4 us, all under one container lock: at most
# 1 / 4.65 us = 215 k packets/s, 2.58 Gb/s of 1500-byte packets, with two
# notifications per packet. Passthrough has no per-packet work and carries
# the offered load.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$PWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$PWD/$top_srcdir" ;; esac

# cfg MAP_EVENTS HOST: a guest GenericIOMMU, a host one and a VfioShadow.
cfg() {
    cat >"$TMP/c.py" <<PYEOF
import iommusim as sim
root = sim.Root()
root.system = s = sim.System()
s.mem = sim.Memory()
s.gt = sim.IOTLB(); s.gw = sim.Walker()
s.guest = sim.GenericIOMMU(iotlb=s.gt, walker=s.gw, memory=s.mem, map_events=$1)
s.ht = sim.IOTLB(); s.hw = sim.Walker()
s.host = sim.GenericIOMMU(iotlb=s.ht, walker=s.hw, memory=s.mem)
s.vfio = sim.VfioShadow(iommu=s.guest, requester_id=1, host_iommu=$2)
sim.simulate(until="1us")
print("maps", s.vfio.read("maps"))
PYEOF
}

cfg False s.host
expect_status 2 "MAP notifier refused without map_events: exit 2 (a config error)" -- \
    "$IOMMUSIM" -q --no-progress --outdir "$TMP/o1" "$TMP/c.py"
expect_grep "$TMP/err" "system\.vfio.*map_events" "the error names the shadow and map_events"
[ "$(grep -c . "$TMP/err")" -le 2 ] && ok "a short error" || bad "a short error" "$(cat "$TMP/err")"

cfg True s.guest
expect_status 2 "host_iommu = iommu: exit 2" -- \
    "$IOMMUSIM" -q --no-progress --outdir "$TMP/o2" "$TMP/c.py"
expect_grep "$TMP/err" "system\.vfio\.host_iommu" "the error names system.vfio.host_iommu"

cfg True s.host
expect_status 0 "a caching-mode guest with a shadow runs" -- \
    "$IOMMUSIM" -q --no-progress --outdir "$TMP/o3" "$TMP/c.py"
expect_grep "$TMP/out" "^maps 0" "nothing mapped, nothing shadowed"

# (The cm variant through a GenericIOMMU, whose only serialiser is the
# container lock; tests/cli/test_vfio_nic.sh checks the default, a VT-d.)
expect_status 0 "vfio_nic.py --viommu generic (5 ms, 3 ms warm-up)" -- \
    "$IOMMUSIM" -q --no-progress --outdir "$TMP/o4" "$SRC/configs/vfio_nic.py" \
    --viommu generic --only cm,passthrough
if $PY - "$TMP/out" <<'PYEOF'
import sys
rows = {l.split()[0]: l.split() for l in open(sys.argv[1]) if l.split()
        and l.split()[0] in ("cm", "passthrough")}
cm, pt = rows["cm"], rows["passthrough"]
gbps, map_ns, unmap_ns, notif = float(cm[1]), float(cm[5]), float(cm[6]), float(cm[8])
bound = 1500 * 8 / 4.65e-6 / 1e9
errs = []
if abs(gbps - bound) > 0.05 * bound: errs.append(f"cm {gbps} Gb/s, expected {bound:.2f} +-5%")
if abs(map_ns - 2250) > 25: errs.append(f"cm map {map_ns} ns/pkt, expected 2250")
if abs(unmap_ns - 2400) > 25: errs.append(f"cm unmap {unmap_ns} ns/pkt, expected 2400")
if abs(notif - 2) > 0.02: errs.append(f"cm {notif} notifications/pkt, expected 2")
if float(pt[2]) < 0.95: errs.append(f"passthrough {pt[2]} of offered, expected >= 0.95")
raise SystemExit("; ".join(errs) if errs else 0)
PYEOF
then ok "vfio_nic: the shadow's per-packet costs and bound match the worked example"
else bad "vfio_nic: the shadow's per-packet costs and bound match the worked example" \
    "$(cat "$TMP/out")"; fi
# vhost_net: one UNMAP per packet, 5 us each on one worker: 1500 x 8 / 5 us
# = 2.4 Gb/s for either policy; 8 lookups per packet (descriptor read, six
# 256-byte data writes, write-back), the first of each fresh buffer page
# misses: hit rate 7/8; never a stale use.
expect_status 0 "vhost_net.py (20 ms, 10 ms warm-up)" -- \
    "$IOMMUSIM" -q --no-progress --outdir "$TMP/o5" "$SRC/configs/vhost_net.py"
if $PY - "$TMP/out" <<'PYEOF'
import sys
rows = {l.split()[0]: l.split() for l in open(sys.argv[1]) if l.split()
        and l.split()[0] in ("strict", "lazy")}
errs = []
for pol, r in rows.items():
    gbps, lpp, hit, stale = float(r[1]), float(r[4]), float(r[5]), float(r[8])
    if abs(gbps - 2.4) > 0.05 * 2.4:
        errs.append(f"{pol} {gbps} Gb/s, expected 2.4")
    if abs(lpp - 8) > 0.05: errs.append(f"{pol} {lpp} lookups/pkt, expected 8")
    if abs(hit - 0.875) > 0.005: errs.append(f"{pol} hit rate {hit}, expected 7/8")
    if stale != 0: errs.append(f"{pol} {stale} stale uses")
if len(rows) != 2: errs.append("missing rows")
raise SystemExit("; ".join(errs) if errs else 0)
PYEOF
then ok "vhost_net: the worker bound, 8 lookups and 7/8 hits per packet, no stale use"
else bad "vhost_net: the worker bound, 8 lookups and 7/8 hits per packet, no stale use" \
    "$(cat "$TMP/out")"; fi
finish
