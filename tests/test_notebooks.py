"""The notebooks: each one runs top to bottom in a fresh kernel, fast, and is committed without outputs.

Every ``notebooks/*.ipynb`` is picked up automatically. The kernel is started with this test run's
own interpreter (``sys.executable``), never whatever a ``python3`` kernel spec elsewhere points at,
and runs in ``notebooks/`` as a reader's Jupyter would. A failing cell fails the test with the
notebook, the cell's number and source, and the error.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from ipykernel.kernelspec import write_kernel_spec  # noqa: E402
from jupyter_client import AsyncKernelManager  # noqa: E402
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402
from traitlets import default  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell
NOTEBOOK_BUDGET = 60  # seconds per notebook, kernel start included (the target machine has 2 cores)
MAX_BYTES = 300_000
KERNEL_NAME = "chainrule-test-python"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Appended to the in-memory copy only: proves the kernel ran this interpreter.
INTERPRETER_PROBE = "import json, sys\nprint(json.dumps({'executable': sys.executable, 'prefix': sys.prefix}))"


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> Path:
    """A private kernel spec whose argv starts with sys.executable (this venv's python)."""
    directory = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(directory / KERNEL_NAME, overrides={"display_name": "chainrule test kernel"})
    argv = json.loads((directory / KERNEL_NAME / "kernel.json").read_text())["argv"]
    assert argv[0] == sys.executable, argv
    return directory


def _kernel_manager_class(kernel_dir: Path) -> type[AsyncKernelManager]:
    class ThisInterpreterKernelManager(AsyncKernelManager):
        """Looks kernel specs up only in ``kernel_dir``: user or system specs cannot take over."""

        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return KernelSpecManager(kernel_dirs=[str(kernel_dir)])

    return ThisInterpreterKernelManager


def _failure_report(name: str, index: int, cell, error: Exception) -> str:
    """The notebook, the cell's number and source, and the error with its traceback, without colour codes."""
    if isinstance(error, CellExecutionError):
        detail = str(error)  # nbclient's report: the cell's source, its output, the traceback
    else:  # timeout or dead kernel: the message does not show the cell
        rule = "-" * 18
        detail = f"{rule}\n{cell.source}\n{rule}\n{type(error).__name__}: {error}"
    return f"{name}: cell {index} failed\n{ANSI.sub('', detail).strip()}"


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_lean(path: Path):
    """Committed notebooks are small and carry no outputs, so they diff well; the test runs them fresh."""
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes (limit {MAX_BYTES}); strip its outputs"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    kept = [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not kept, (f"{path.name}: cells {kept} have stored outputs or execution counts; clear all "
                      "outputs and save (see notebooks/README.md)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_dir: Path):
    """Run every cell in order in a fresh kernel; the notebooks assert their own results."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(INTERPRETER_PROBE))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=_kernel_manager_class(kernel_dir),
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                pytest.fail(_failure_report(path.name, index, cell, error), pytrace=False)
    elapsed = time.perf_counter() - start

    probe = json.loads("".join(out.get("text", "") for out in nb.cells[-1].outputs))
    assert probe["prefix"] == sys.prefix, f"kernel ran {probe['executable']}, not {sys.executable}"
    assert elapsed < NOTEBOOK_BUDGET, f"{path.name} took {elapsed:.1f} s (budget {NOTEBOOK_BUDGET} s)"
