"""``python -m adabelief_ref.verify`` — re-execute every notebook and collect the verdicts.

For each ``notebooks/NN_*.ipynb`` (in order) this executes a copy into ``reports/notebooks/``,
exports it to ``reports/html/`` for reading without Jupyter, and gathers the ``VERDICT`` records
that :func:`adabelief_ref.verdict` appends while it runs. It then writes ``reports/verdicts.json``
and ``reports/verdicts.md`` (claim, paper reference, notebook, measured figures, verdict).

The stored notebooks in ``notebooks/`` are left untouched unless ``--refresh`` is given.
``-p NAME=VALUE`` overrides a value of the notebooks' ``parameters`` cell (through papermill) to
scale a rerun up; it cannot be combined with ``--refresh`` (stored notebooks stay CI-sized).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

from .verdicts import NOTEBOOK_ENV, VERDICTS_ENV

ROOT = Path(__file__).resolve().parent.parent
# keeps the kernel's start-up log (e.g. its TCP-transport notice) out of the report
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"-p expects NAME=VALUE; got {item!r}")
        name, value = item.split("=", 1)
        try:
            params[name.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name.strip()] = value
    return params


def execute(src: Path, dst: Path, params: dict, timeout: int) -> None:
    """Execute ``src`` with its own folder as working directory and write the result to ``dst``."""
    import nbformat

    if params:
        import papermill

        papermill.execute_notebook(
            str(src), str(dst), parameters=params, cwd=str(src.parent), kernel_name="python3",
            progress_bar=False, execution_timeout=timeout, log_output=False, extra_arguments=KERNEL_ARGS,
        )
        return
    from nbclient import NotebookClient

    nb = nbformat.read(src, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", extra_arguments=KERNEL_ARGS,
                   resources={"metadata": {"path": str(src.parent)}}).execute()
    nbformat.write(nb, dst)


def export_html(nb_path: Path, html_path: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(nb_path, as_version=4))
    html_path.write_text(body, encoding="utf-8")


def write_tables(records: list[dict], reports: Path) -> None:
    (reports / "verdicts.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Verdicts",
        "",
        "Written by `make verify`: every claim checked by the notebooks, as measured on this run.",
        "",
        "| claim | paper | notebook | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in records:
        figures = ", ".join(f"{k}={v}" for k, v in r["measured"].items()).replace("|", "\\|")
        lines.append(f"| {r['claim']} | {r['ref']} | {r['notebook']} | {figures} | {r['status']} |")
    (reports / "verdicts.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m adabelief_ref.verify", description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    ap.add_argument("--reports", default=str(ROOT / "reports"), help="output folder (default: reports/)")
    ap.add_argument("--refresh", action="store_true", help="also overwrite the stored notebooks with the new outputs")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override a parameters-cell value in every notebook (papermill)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = ap.parse_args(argv)
    params = _parse_params(args.param)
    if params and args.refresh:
        raise SystemExit("--refresh cannot be combined with -p: the stored notebooks keep their CI-sized parameters")

    paths = [Path(p) for p in args.notebooks] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"no such notebook: {', '.join(missing)}")
    reports = Path(args.reports)
    (reports / "notebooks").mkdir(parents=True, exist_ok=True)
    (reports / "html").mkdir(parents=True, exist_ok=True)
    jsonl = reports / "verdicts.jsonl"
    jsonl.unlink(missing_ok=True)

    failed = []
    for src in paths:
        dst = reports / "notebooks" / src.name
        os.environ[VERDICTS_ENV] = str(jsonl.resolve())
        os.environ[NOTEBOOK_ENV] = src.name
        start = time.perf_counter()
        try:
            execute(src.resolve(), dst, params, args.timeout)
            status = "ok"
        except Exception as exc:  # a failing notebook is reported, the others still run
            failed.append(src.name)
            status = f"FAILED: {type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
        if dst.exists():
            export_html(dst, reports / "html" / (src.stem + ".html"))
            if args.refresh and status == "ok":
                dst_text = dst.read_text(encoding="utf-8")
                src.write_text(dst_text, encoding="utf-8")
        print(f"{src.name}: {status} ({time.perf_counter() - start:.0f} s)", flush=True)

    records = []
    if jsonl.exists():
        records = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
        jsonl.unlink()
    write_tables(records, reports)
    n_hold = sum(r["holds"] for r in records)
    print(f"{len(records)} verdicts ({n_hold} HOLDS, {len(records) - n_hold} FAILS) -> {reports / 'verdicts.md'}")
    if failed:
        print(f"notebooks that did not execute: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
