#!/usr/bin/env bash
# Grading throughput: 30 generated submissions of homework 01-lstm (10 solved, 10 partly solved, 10 untouched, each
# made distinct by a comment) graded with --parallel 2, against `notebooklab run` of the same notebook.
# Usage: tests/grading/benchmark_grading.sh [N=30] [PARALLEL=2]   (build src/NotebookLab.Cli in Release first)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
N="${1:-30}"; PARALLEL="${2:-2}"
CLI=(dotnet "$REPO/src/NotebookLab.Cli/bin/Release/net10.0/NotebookLab.Cli.dll")
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
"${CLI[@]}" assign "$REPO/notebooks/homework/01-lstm-master.ipynb" --out "$WORK/a" 2>/dev/null
mkdir -p "$WORK/subs"
python3 - "$REPO/notebooks/homework/01-lstm-master.ipynb" "$WORK/a/student/01-lstm.ipynb" "$WORK/subs" "$N" <<'PY'
import json, sys, copy
master, release, out, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], int(sys.argv[4])
solved = {c["id"]: c for c in master["cells"]}
partial = copy.deepcopy(release)
for c in partial["cells"]:
    if "LstmForward(Tensor x" in "".join(c["source"]):
        c["source"] = [l for l in solved[c["id"]]["source"] if "SOLUTION" not in l]
for i in range(n):
    nb = copy.deepcopy([master, partial, release][i % 3])
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": f"s{i}", "metadata": {}, "outputs": [], "source": [f"// student {i}"]})
    json.dump(nb, open(f"{out}/student{i:02d}.ipynb", "w"))
PY
start=$(date +%s.%N)
"${CLI[@]}" run "$REPO/notebooks/homework/01-lstm-master.ipynb" --output "$WORK/run" >/dev/null 2>&1
run_s=$(echo "$(date +%s.%N) - $start" | bc)
mkdir -p "$WORK/one" && cp "$WORK/subs/student00.ipynb" "$WORK/one/"
start=$(date +%s.%N)
"${CLI[@]}" grade --assignment "$WORK/a/autograder" --submissions "$WORK/one" --out "$WORK/g1" --timeout 120 >/dev/null 2>&1
one_s=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
"${CLI[@]}" grade --assignment "$WORK/a/autograder" --submissions "$WORK/subs" --out "$WORK/g" --parallel "$PARALLEL" --timeout 120 2>"$WORK/grade.log" || { cat "$WORK/grade.log"; exit 1; }
all_s=$(echo "$(date +%s.%N) - $start" | bc)
tail -1 "$WORK/grade.log"
cut -d, -f5 "$WORK/g/grades.csv" | tail -n +2 | sort | uniq -c | sed 's/^/  total score /'
printf 'notebooklab run of the master (one process, no sandbox):   %6.1f s\n' "$run_s"
printf 'notebooklab grade of one solved submission (alone):        %6.1f s\n' "$one_s"
printf '%d submissions, --parallel %d:                            %6.1f s = %.1f submissions per minute\n' "$N" "$PARALLEL" "$all_s" "$(echo "$N * 60 / $all_s" | bc -l)"
