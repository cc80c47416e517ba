#!/usr/bin/python3
"""Seconds per course notebook in fast mode in each of the three hosts, side by side in one run.

    benchmark_hosts.py [--rounds N] [NOTEBOOK ...]     (default: every notebooks/*.ipynb, 1 round)

Hosts: notebooklab (`notebooklab run`, built Release), the .NET Interactive Jupyter kernel through nbclient, and
dotnet-repl (both through tests/hosts/run_real_host.py). Rounds interleave the hosts notebook by notebook, so a busy
machine slows all three alike; the table gives the median over rounds and each host's ratio to notebooklab. Each
timing is the whole run as a user waits for it: process or kernel start, package restore (warm cache), every cell.
Build first: `dotnet build src/NotebookLab.Cli -c Release`; install the hosts: `.ci/install-host-tools`.
"""
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.path.join(REPO, "src", "NotebookLab.Cli", "bin", "Release", "net10.0", "NotebookLab.Cli.dll")
DRIVER = os.path.join(REPO, "tests", "hosts", "run_real_host.py")
HOSTS = ["notebooklab", "jupyter", "repl"]


def run(host, notebook, out_dir):
    out = os.path.join(out_dir, host, os.path.basename(notebook))
    if host == "notebooklab":
        command = ["dotnet", CLI, "run", notebook, "--param", "fast=true", "--output", os.path.dirname(out)]
    else:
        command = [sys.executable, DRIVER, host, notebook, out, "--param", "fast=true"]
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        print(f"{host} failed on {notebook} (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return seconds


def main(argv):
    rounds = 1
    if argv[:1] == ["--rounds"]:
        rounds, argv = int(argv[1]), argv[2:]
    notebooks = [os.path.abspath(n) for n in argv] or sorted(glob.glob(os.path.join(REPO, "notebooks", "*.ipynb")))
    if not os.path.exists(CLI):
        sys.exit(f"{CLI} is missing: dotnet build src/NotebookLab.Cli -c Release")
    times = {(h, n): [] for h in HOSTS for n in notebooks}
    with tempfile.TemporaryDirectory(prefix="nbl-bench-") as out_dir:
        for _ in range(rounds):
            for notebook in notebooks:
                for host in HOSTS:
                    seconds = run(host, notebook, out_dir)
                    if seconds is not None:
                        times[(host, notebook)].append(seconds)
    print("| notebook | notebooklab (s) | .NET Interactive, Jupyter (s) | dotnet-repl (s) | Jupyter / notebooklab | repl / notebooklab |")
    print("| --- | --- | --- | --- | --- | --- |")
    for notebook in notebooks:
        med = {h: statistics.median(times[(h, notebook)]) if times[(h, notebook)] else None for h in HOSTS}
        cell = lambda v: "failed" if v is None else f"{v:.1f}"
        ratio = lambda h: "—" if med[h] is None or not med["notebooklab"] else f"{med[h] / med['notebooklab']:.2f}"
        print(f"| {os.path.basename(notebook)} | {cell(med['notebooklab'])} | {cell(med['jupyter'])} | {cell(med['repl'])} | {ratio('jupyter')} | {ratio('repl')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
