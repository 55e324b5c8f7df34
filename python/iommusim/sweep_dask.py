"""iommusim.sweep_dask - run one sweep point as a task on a Dask cluster.

    python3 -m iommusim.sweep_dask tcp://HOST:PORT TIMEOUT -- IOMMUSIM ARGS...

`iommusim sweep --dask ADDR` starts one of these per point in place of the
`iommusim` child, so concurrency (-j), logs, --point-timeout, the manifest
and --resume work exactly as for local runs. The task runs IOMMUSIM ARGS on
a worker (the binary and the config must exist at the same paths there, as
on a cluster with a shared file system) with the point's --outdir replaced by
a temporary directory on the worker; it returns the run's exit status, its
stdout and stderr, and every file the run wrote, which this client then
writes into the point's own --outdir (through a .tmp and a rename each). So
workers need no access to the sweep directory.

Exit status: the point's, re-raised as the same signal if the run was killed
on the worker; 2 if the cluster cannot be reached. TIMEOUT (seconds, 0 for
none) also bounds the run on the worker; SIGTERM or SIGINT here cancels the
task.
"""
import os
import signal
import sys


def run_point(args, timeout):
    """The task, run on a worker: iommusim in a temporary --outdir."""
    import shutil
    import subprocess
    import tempfile
    tmp = tempfile.mkdtemp(prefix="iommusim-point-")
    try:
        i = args.index("--outdir")
        args = args[:i + 1] + [tmp] + args[i + 2:]
        try:
            r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout or None)
            status, out, err = r.returncode, r.stdout, r.stderr
        except subprocess.TimeoutExpired as e:
            status, out, err = -signal.SIGKILL, e.stdout or b"", (e.stderr or b"") + \
                b"sweep_dask: the point ran past its timeout on the worker\n"
        except OSError as e:
            status, out, err = 127, b"", ("sweep_dask: cannot run %s on the worker: %s\n"
                                          % (args[0], e.strerror)).encode()
        files = {}
        for root, _dirs, names in os.walk(tmp):
            for n in names:
                full = os.path.join(root, n)
                with open(full, "rb") as f:
                    files[os.path.relpath(full, tmp)] = f.read()
        import socket
        return {"status": status, "stdout": out, "stderr": err, "files": files,
                "worker": socket.gethostname()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 5 or argv[2] != "--" or "--outdir" not in argv[3:]:
        print("usage: python3 -m iommusim.sweep_dask ADDR TIMEOUT -- IOMMUSIM ARGS "
              "(with --outdir DIR)", file=sys.stderr)
        return 2
    addr, timeout, args = argv[0], float(argv[1]), argv[3:]
    outdir = args[args.index("--outdir") + 1]
    from distributed import Client
    try:
        client = Client(addr, timeout=10)
    except (OSError, TimeoutError) as e:
        print("sweep_dask: cannot reach the Dask scheduler %s (%s)" % (addr, e),
              file=sys.stderr)
        return 2
    fut = client.submit(run_point, args, timeout, pure=False)

    def cancel(signum, _frame):
        fut.cancel()
        client.close()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, cancel)
    signal.signal(signal.SIGINT, cancel)
    try:
        res = fut.result()
    except Exception as e:          # the task itself failed on the worker
        print("sweep_dask: the task failed on the cluster: %s: %s"
              % (type(e).__name__, e), file=sys.stderr)
        client.close()
        return 1
    client.close()
    for rel, data in sorted(res["files"].items()):
        _write(os.path.join(outdir, rel), data)
    sys.stdout.buffer.write(res["stdout"])
    sys.stdout.flush()
    sys.stderr.buffer.write(res["stderr"])
    sys.stderr.flush()
    status = res["status"]
    if status < 0:                   # killed by a signal on the worker: the same here
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
