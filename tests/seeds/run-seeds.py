#!/usr/bin/python3
"""Runs the course notebooks in fast mode over a list of seeds and tabulates every claim they assert.

Each notebook has a cell tagged `parameters` with `var fast = false;` and `var seed = 0;`; every asserted number goes
through `Check.ClaimAtLeast` / `Check.ClaimAtMost`, which print one line to stdout:

    claim: NAME | measured VALUE | at least THRESHOLD        (or: at most THRESHOLD)

This script runs each notebook once per seed with the already built CLI (it builds nothing: run
`dotnet build NotebookLab.sln -c Release` first), one notebook after another, collects those lines from the executed
notebooks' stream outputs, keeps every run in tests/seeds/results.json and rewrites the table between the marker
comments in notebooks/README.md: per claim, the threshold and the min / median / max of the measured value over the
runs, the worst-case margin to the threshold, and whether the claim held in every run.

Runs are kept per (notebook, seed, threads); a run of a notebook whose code has changed since is stale and left out of
the table (the script says so), so the table always describes the notebooks as they are.

    tests/seeds/run-seeds.py                                  # every notebook, seeds 0-9, the machine's default threads
    tests/seeds/run-seeds.py --notebooks 04 --seeds 0-9       # one notebook
    tests/seeds/run-seeds.py --notebooks 00 01 --seeds 0-2 --threads 1   # OMP_NUM_THREADS=1
    tests/seeds/run-seeds.py --table-only                     # rewrite the table from results.json

--threads N sets OMP_NUM_THREADS (libtorch's CPU thread count at start-up) for the run; notebooks that call
torch.set_num_threads themselves (02-04 pin one thread) are not affected by it. --isa avx2 makes libtorch, MKL and
oneDNN use their AVX2 kernels on an AVX-512 machine (ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA),
which is as close as one machine gets to the rounding of another CPU; --isa default goes further down, to no AVX.
Runs are kept per configuration (default, "1 thread", "avx2", ...).
"""
import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "tests" / "seeds" / "results.json"
README = NOTEBOOKS / "README.md"
CLI_DLL = ROOT / "src" / "NotebookLab.Cli" / "bin" / "Release" / "net10.0" / "NotebookLab.Cli.dll"
BEGIN, END = "<!-- claims-table:begin -->", "<!-- claims-table:end -->"
CLAIM = re.compile(r"^claim: (?P<name>.+) \| measured (?P<measured>\S+) \| (?P<bound>at least|at most) (?P<threshold>\S+)\s*$")


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part.strip()[1:]:
            lo, hi = part.split("-", 1)
            seeds.extend(range(int(lo), int(hi) + 1))
        else:
            seeds.append(int(part))
    return seeds


def cell_text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def code_hash(notebook):
    """Hash of the code cells: a run of older code is stale."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = "\n\x00".join(cell_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def claims_of(executed):
    """(claims, error) from an executed notebook: every claim line of every stdout stream, and the first error."""
    nb = json.loads(Path(executed).read_text(encoding="utf-8"))
    claims, error = [], None
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                for line in cell_text(output.get("text")).splitlines():
                    m = CLAIM.match(line)
                    if m:
                        claims.append({"name": m["name"], "measured": float(m["measured"]), "bound": m["bound"],
                                       "threshold": float(m["threshold"])})
            elif output.get("output_type") == "error" and error is None:
                error = f"{output.get('ename')}: {output.get('evalue')}"
    return claims, error


ISA = {"avx2": ("avx2", "AVX2", "AVX2"), "default": ("default", "SSE4_2", "SSE41")}


def configuration(threads, isa):
    """(label, environment variables) of a run configuration."""
    label, env = [], {}
    if threads:
        label.append(f"{threads} thread{'s' if threads != 1 else ''}")
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if isa:
        label.append(isa if isa != "default" else "no AVX")
        env["ATEN_CPU_CAPABILITY"], env["MKL_ENABLE_INSTRUCTIONS"], env["ONEDNN_MAX_CPU_ISA"] = ISA[isa]
    return ", ".join(label) or "default", env


def run_one(cli, notebook, seed, config, config_env, out_dir, timeout):
    out = out_dir / (f"seed-{seed}" + ("" if config == "default" else "-" + re.sub(r"\W+", "-", config)))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **config_env)
    command = cli + ["run", str(notebook), "--param", "fast=true", "--param", f"seed={seed}", "--output", str(out)]
    start = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - start
    executed = out / notebook.with_suffix(".ipynb").name
    if not executed.exists():
        return {"claims": [], "error": f"CLI exit {proc.returncode}, no executed notebook:\n{proc.stderr[-2000:]}", "seconds": seconds}
    claims, error = claims_of(executed)
    # The CLI's own timing of the notebook (cells only, without process start-up), from its progress line.
    m = re.search(r": (?:ok|failed)[^\n]* in ([0-9.]+) s", proc.stderr)
    return {"claims": claims, "error": error, "seconds": seconds, "cell_seconds": float(m[1]) if m else None}


def fmt(v):
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "∞" if v > 0 else "−∞"
    return f"{v:.4g}"


def table(results):
    rows, notes = [], []
    for name in sorted(results["notebooks"]):
        path = NOTEBOOKS / name
        if not path.exists():
            continue
        current = code_hash(path)
        runs = results["notebooks"][name]
        fresh = [r for r in runs if r["code"] == current]
        if len(fresh) < len(runs):
            print(f"{name}: {len(runs) - len(fresh)} stale run(s) of older code left out of the table", file=sys.stderr)
        if not fresh:
            continue
        by_config = {}
        for r in fresh:
            by_config.setdefault(r["config"], []).append(r["seed"])
        seconds = [r["cell_seconds"] or r["seconds"] for r in fresh if r["config"] == "default"] or [0]
        notes.append(f"- `{name}`: " + "; ".join(f"seeds {compress(s)} ({c})" for c, s in sorted(by_config.items(), key=lambda kv: kv[0] != "default"))
                     + f"; fast mode took {min(seconds):.0f}–{max(seconds):.0f} s per default run"
                     + "".join(f"\n  - seed {r['seed']} ({r['config']}): **{r['error']}**" for r in fresh if r["error"]))
        claims = {}
        for r in fresh:
            for c in r["claims"]:
                claims.setdefault(c["name"], []).append(c)
        for claim, seen in claims.items():
            values = [c["measured"] for c in seen]
            bound, threshold = seen[-1]["bound"], seen[-1]["threshold"]
            at_least = bound == "at least"
            held = all((v >= threshold) if at_least else (v <= threshold) for v in values)
            worst = (min(values) - threshold) if at_least else (threshold - max(values))
            missing = len(fresh) - len(values)
            rows.append(f"| {name.removesuffix('.ipynb')} | {claim.replace('|', chr(92) + '|')} | {bound} {fmt(threshold)} | {fmt(min(values))} | "
                        f"{fmt(statistics.median(values))} | {fmt(max(values))} | {fmt(worst)} | "
                        f"{len(values)}{f' ({missing} missing)' if missing else ''} | {'yes' if held and not missing else '**no**'} |")
    header = ("| notebook | claim | threshold | min | median | max | worst margin | runs | holds in every run |\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cpus = sorted({r.get("cpu", "?") for runs in results["notebooks"].values() for r in runs})
    return ("Fast mode, produced by `tests/seeds/run-seeds.py` on " + ", ".join(cpus) + ". Runs:\n\n" + "\n".join(notes)
            + "\n\n" + header + "\n" + "\n".join(rows) + "\n")


def compress(seeds):
    seeds = sorted(set(seeds))
    parts, start = [], None
    for i, s in enumerate(seeds):
        if start is None:
            start = s
        if i + 1 == len(seeds) or seeds[i + 1] != s + 1:
            parts.append(str(start) if start == s else f"{start}–{s}")
            start = None
    return ", ".join(parts)


def write_readme(text):
    readme = README.read_text(encoding="utf-8") if README.exists() else f"# Course notebooks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in readme or END not in readme:
        readme = readme.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + BEGIN + "\n" + text + END + tail, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,7 (default 0-9)")
    parser.add_argument("--notebooks", nargs="*", default=None, help="name prefixes, e.g. 00 04 (default: all)")
    parser.add_argument("--threads", type=int, default=None, help="set OMP_NUM_THREADS for the runs")
    parser.add_argument("--isa", choices=sorted(ISA), default=None, help="use libtorch's/MKL's/oneDNN's kernels for this instruction set")
    parser.add_argument("--out", default="artifacts/seeds", help="executed notebooks go here (default artifacts/seeds)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per notebook run")
    parser.add_argument("--cli", default=None, help="command that runs the CLI (default: dotnet <built NotebookLab.Cli.dll>)")
    parser.add_argument("--table-only", action="store_true", help="only rewrite the README table from results.json")
    args = parser.parse_args()

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"notebooks": {}}
    if not args.table_only:
        if args.cli:
            cli = args.cli.split()
        elif CLI_DLL.exists():
            cli = ["dotnet", str(CLI_DLL)]
        else:
            sys.exit(f"{CLI_DLL} is missing: build first (dotnet build NotebookLab.sln -c Release)")
        notebooks = sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                           if args.notebooks is None or any(p.name.startswith(n) for n in args.notebooks))
        failed = 0
        config, config_env = configuration(args.threads, args.isa)
        for notebook in notebooks:  # one notebook at a time, one seed at a time: runs never compete for the CPU
            code = code_hash(notebook)
            for seed in parse_seeds(args.seeds):
                run = run_one(cli, notebook.relative_to(ROOT), seed, config, config_env, ROOT / args.out / notebook.stem, args.timeout)
                run.update(seed=seed, config=config, code=code, cpu=cpu_model())
                runs = results["notebooks"].setdefault(notebook.name, [])
                runs[:] = [r for r in runs if not (r["seed"] == seed and r["config"] == config)] + [run]
                runs.sort(key=lambda r: (r["config"] != "default", r["config"], r["seed"]))
                failed += run["error"] is not None
                print(f"{notebook.name} seed {seed} ({config}): "
                      f"{run['seconds']:.1f} s, {len(run['claims'])} claims" + (f", ERROR {run['error']}" if run["error"] else ""),
                      flush=True)
                for c in run["claims"]:
                    print(f"    {c['name']}: {c['measured']:.6g} ({c['bound']} {c['threshold']:.6g})", flush=True)
                RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_readme(table(results))
    print(f"table written to {README.relative_to(ROOT)}")
    return 1 if not args.table_only and failed else 0


if __name__ == "__main__":
    sys.exit(main())
