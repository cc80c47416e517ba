#!/usr/bin/python3
"""Jupyter kernels side by side through jupyter_client, in one run: NotebookLab's kernel, the .NET Interactive C#
kernel and Debian's python ipykernel.

    benchmark_kernels.py [--rounds N] [--cells N]      (default 3 rounds, 50 timed cells per round)

For each kernel and round: start-to-first-reply (start the kernel process, wait until it is ready, run one trivial
cell: what a user waits for after opening a notebook) and the warm round-trip of a trivial cell (send execute_request,
receive execute_reply; the median over the timed cells, after 5 untimed ones). Rounds interleave the kernels, so a busy
machine slows all alike; the table gives the median over rounds. Kernelspecs are written into a temporary JUPYTER_PATH:
NotebookLab's by `notebooklab kernel install --prefix` from the Release build
(`dotnet build src/NotebookLab.Cli -c Release` first), .NET Interactive's with argv [dotnet-interactive, jupyter,
--default-kernel, csharp, --http-local-only, {connection_file}] from $NOTEBOOKLAB_HOST_TOOLS (default
artifacts/host-tools, where .ci/install-host-tools puts it); python3 is the system ipykernel.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import KernelManager

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(REPO, "src", "NotebookLab.Cli", "bin", "Release", "net10.0", "NotebookLab.Cli")
TOOLS = os.environ.get("NOTEBOOKLAB_HOST_TOOLS") or os.path.join(REPO, "artifacts", "host-tools")
KERNELS = [("notebooklab", "NotebookLab", "1 + 1"), ("bench-dotnet-interactive", ".NET Interactive", "1 + 1"),
           ("bench-python3", "ipykernel (python)", "1 + 1")]


def write_specs(jupyter_path):
    subprocess.run([CLI, "kernel", "install", "--prefix", os.path.dirname(os.path.dirname(jupyter_path)), "--name", "notebooklab"],
                   check=True, capture_output=True)
    for name, argv, language in [
        ("bench-dotnet-interactive", [os.path.join(TOOLS, "dotnet-interactive"), "jupyter", "--default-kernel", "csharp",
                                      "--http-local-only", "{connection_file}"], "C#"),
        ("bench-python3", ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "python"),
    ]:
        os.makedirs(os.path.join(jupyter_path, "kernels", name))
        with open(os.path.join(jupyter_path, "kernels", name, "kernel.json"), "w") as f:
            json.dump({"argv": argv, "display_name": name, "language": language}, f)


def execute(kc, code, timeout=120):
    msg_id = kc.execute(code, store_history=False)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{code!r} failed: {reply['content']}")
            return


def measure(kernel_name, code, cells):
    started = time.monotonic()
    km = KernelManager(kernel_name=kernel_name)
    km.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=180)
        execute(kc, code)
        start_seconds = time.monotonic() - started
        for _ in range(5):
            execute(kc, code)
        trips = []
        for _ in range(cells):
            t = time.perf_counter()
            execute(kc, code)
            trips.append(time.perf_counter() - t)
        return start_seconds, statistics.median(trips)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main(argv):
    rounds, cells = 3, 50
    while argv:
        if argv[0] == "--rounds":
            rounds, argv = int(argv[1]), argv[2:]
        elif argv[0] == "--cells":
            cells, argv = int(argv[1]), argv[2:]
        else:
            sys.exit(__doc__)
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: dotnet build src/NotebookLab.Cli -c Release")
    if not os.path.exists(os.path.join(TOOLS, "dotnet-interactive")):
        sys.exit(f"{TOOLS}/dotnet-interactive is missing: .ci/install-host-tools")
    prefix = tempfile.mkdtemp(prefix="nbl-kernel-bench-")
    jupyter_path = os.path.join(prefix, "share", "jupyter")
    os.makedirs(jupyter_path)
    os.environ["JUPYTER_PATH"] = jupyter_path
    try:
        write_specs(jupyter_path)
        results = {name: ([], []) for name, _, _ in KERNELS}
        for _ in range(rounds):
            for name, _, code in KERNELS:
                start, trip = measure(name, code, cells)
                results[name][0].append(start)
                results[name][1].append(trip)
        print(f"| kernel | start to first reply (s) | warm trivial-cell round-trip (ms) |   ({rounds} rounds, median; {cells} cells a round)")
        print("| --- | --- | --- |")
        for name, label, _ in KERNELS:
            starts, trips = results[name]
            print(f"| {label} | {statistics.median(starts):.2f} | {statistics.median(trips) * 1000:.1f} |")
        print(json.dumps({name: {"start_s": [round(s, 3) for s in results[name][0]],
                                 "round_trip_ms": [round(t * 1000, 2) for t in results[name][1]]} for name, _, _ in KERNELS}))
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
