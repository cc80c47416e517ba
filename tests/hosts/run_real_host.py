#!/usr/bin/python3
"""Run a course notebook in the real .NET Interactive hosts, the way their users do.

    run_real_host.py jupyter NOTEBOOK OUT.ipynb [--param name=value ...]
    run_real_host.py repl    NOTEBOOK OUT.ipynb [--param name=value ...]
    run_real_host.py notebooklab NOTEBOOK OUT.ipynb [--param name=value ...]

jupyter: Debian's nbclient drives the .NET Interactive Jupyter kernel (`dotnet-interactive jupyter`), from a kernelspec
written into a temporary JUPYTER_PATH (argv without --http-port-range, and --http-local-only, so nothing listens
beyond this machine). repl: `dotnet-repl --run COPY --exit-after-run --output-format ipynb`, on a parameterised copy
placed beside the notebook so relative paths resolve as they do for the original. notebooklab: nbclient drives
NotebookLab's own kernel, the kernelspec named by $NOTEBOOKLAB_KERNEL (installed with `notebooklab kernel install`,
found through JUPYTER_PATH).

Beside OUT.ipynb, OUT.ipynb.messages.json counts the iopub message types per cell (jupyter only): nbclient folds
update_display_data into the notebook, so this is where a live display's updates are seen.

Parameters are injected as papermill does: a cell `var name = value;` after the cell tagged `parameters`.
Tools come from $NOTEBOOKLAB_HOST_TOOLS (default: artifacts/host-tools in the repository), where `.ci/run` installs
Microsoft.dotnet-interactive and dotnet-repl at pinned versions. Exit code: 0 when no cell produced an error output,
1 when one did, 2 for bad arguments or a host that could not be started.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.environ.get("NOTEBOOKLAB_HOST_TOOLS") or os.path.join(REPO, "artifacts", "host-tools")
KERNEL_NAME = "notebooklab-test-dotnet-interactive"


def fail(message):
    print(f"run_real_host: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    if len(argv) < 3 or argv[0] not in ("jupyter", "repl", "notebooklab"):
        fail(__doc__.strip().splitlines()[2].strip() + " | see the module docstring")
    host, notebook, out = argv[0], os.path.abspath(argv[1]), os.path.abspath(argv[2])
    params = []
    rest = argv[3:]
    while rest:
        if rest[0] != "--param" or len(rest) < 2 or "=" not in rest[1]:
            fail(f"expected --param name=value, got {' '.join(rest[:2])}")
        name, value = rest[1].split("=", 1)
        params.append((name.strip(), value.strip()))
        rest = rest[2:]
    return host, notebook, out, params


def inject_parameters(nb, params):
    if not params:
        return
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        fail("the notebook has no cell tagged 'parameters'")
    source = "\n".join(f"var {n} = {v};" for n, v in params)
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    cell.metadata["polyglot_notebook"] = {"kernelName": "csharp"}
    nb.cells.insert(index + 1, cell)


def tool(name):
    path = os.path.join(TOOLS, name)
    if not os.path.exists(path):
        fail(f"{path} is missing: install it with .ci/install-host-tools (NOTEBOOKLAB_HOST_TOOLS={TOOLS})")
    return path


def run_jupyter(nb, notebook_dir, kernel_name=None):
    """nbclient with the .NET Interactive kernel (a kernelspec written for it here), or with kernel_name as installed."""
    import nbclient

    class RecordingClient(nbclient.NotebookClient):
        """Counts the iopub message types per cell (update_display_data is folded into the notebook by nbclient)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.messages = {}

        def process_message(self, msg, cell, cell_index):
            counts = self.messages.setdefault(cell_index, {})
            kind = msg.get("msg_type", "?")
            counts[kind] = counts.get(kind, 0) + 1
            return super().process_message(msg, cell, cell_index)

    if kernel_name is not None:
        client = RecordingClient(nb, kernel_name=kernel_name, timeout=900, allow_errors=True,
                                 startup_timeout=120, resources={"metadata": {"path": notebook_dir}})
        client.execute()
        return nb, client.messages

    jupyter_path = tempfile.mkdtemp(prefix="nbl-jupyter-")
    try:
        spec_dir = os.path.join(jupyter_path, "kernels", KERNEL_NAME)
        os.makedirs(spec_dir)
        with open(os.path.join(spec_dir, "kernel.json"), "w") as f:
            json.dump({
                "argv": [tool("dotnet-interactive"), "jupyter", "--default-kernel", "csharp", "--http-local-only",
                         "{connection_file}"],
                "display_name": ".NET (C#) under test",
                "language": "C#",
            }, f)
        os.environ["JUPYTER_PATH"] = jupyter_path + os.pathsep + os.environ.get("JUPYTER_PATH", "")
        client = RecordingClient(nb, kernel_name=KERNEL_NAME, timeout=900, allow_errors=True,
                                 startup_timeout=120, resources={"metadata": {"path": notebook_dir}})
        client.execute()
        return nb, client.messages
    finally:
        shutil.rmtree(jupyter_path, ignore_errors=True)


def run_repl(nb, notebook_dir, name):
    handle, copy = tempfile.mkstemp(prefix=f".{name}.repl-", suffix=".ipynb", dir=notebook_dir)
    os.close(handle)
    result = copy + ".out.ipynb"
    try:
        nbformat.write(nb, copy)
        proc = subprocess.run([tool("dotnet-repl"), "--run", copy, "--exit-after-run", "--output-format", "ipynb",
                               "--output-path", result], cwd=notebook_dir, capture_output=True, text=True, timeout=1800)
        if not os.path.exists(result):
            fail(f"dotnet-repl wrote no notebook (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with open(result) as f:
            raw = json.load(f)
        # dotnet-repl writes cells without ids, which nbformat 4.5 requires: give each the id of the cell it ran.
        for cell, original in zip(raw.get("cells", []), nb.cells):
            cell.setdefault("id", original.get("id"))
        return nbformat.from_dict(raw), {}
    finally:
        for path in (copy, result):
            if os.path.exists(path):
                os.remove(path)


def main(argv):
    host, notebook, out, params = parse_args(argv)
    if not os.path.exists(notebook):
        fail(f"{notebook} does not exist")
    nb = nbformat.read(notebook, as_version=4)
    inject_parameters(nb, params)
    notebook_dir = os.path.dirname(notebook)
    started = time.monotonic()
    if host == "jupyter":
        executed, messages = run_jupyter(nb, notebook_dir)
    elif host == "notebooklab":
        if not os.environ.get("NOTEBOOKLAB_KERNEL"):
            fail("set NOTEBOOKLAB_KERNEL to the name of an installed NotebookLab kernelspec")
        executed, messages = run_jupyter(nb, notebook_dir, os.environ["NOTEBOOKLAB_KERNEL"])
    else:
        executed, messages = run_repl(nb, notebook_dir, os.path.basename(notebook))
    seconds = time.monotonic() - started
    os.makedirs(os.path.dirname(out), exist_ok=True)
    nbformat.write(executed, out)
    with open(out + ".messages.json", "w") as f:
        json.dump({str(k): v for k, v in sorted(messages.items())}, f, indent=1)
    errors = [(i, o.get("ename"), o.get("evalue", "")[:300]) for i, c in enumerate(executed.cells) if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    for i, ename, evalue in errors:
        print(f"{os.path.basename(notebook)}, cell {i}: {ename}: {evalue}", file=sys.stderr)
    print(json.dumps({"host": host, "notebook": notebook, "seconds": round(seconds, 1), "errors": len(errors)}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
