"""The notebooks: committed with their outputs, each runs top to bottom in a fresh kernel, fast, and
every number it shows is checked here rather than in its teaching cells.

Every ``notebooks/*.ipynb`` is picked up automatically. Its checks live in
``tests/notebook_checks/<notebook name>.py``, in sections headed ``# %% after <cell id>``: each
section runs in the notebook's kernel right after that cell, so it sees exactly the state the
reader's kernel has there. The kernel is started with this test run's own interpreter
(``sys.executable``), never whatever a ``python3`` kernel spec elsewhere points at, and runs in
``notebooks/`` as a reader's Jupyter would. A failing cell or check fails the test with the
notebook, the cell's id and source, and the error.

``python tests/test_notebooks.py [NAME ...]`` (``make notebooks``) executes the notebooks the same
way, without the checks, and stores their outputs in place.
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
CHECKS_DIR = Path(__file__).resolve().parent / "notebook_checks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell
NOTEBOOK_BUDGET = 60  # seconds per notebook, kernel start included (the target machine has 2 cores)
MAX_BYTES = 3_000_000  # outputs included: pictures are PNG or SVG
KERNEL_NAME = "chainrule-test-python"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECTION = re.compile(r"^# %% after (\S+)[ \t]*$", re.M)
# Appended to the in-memory copy only: proves the kernel ran this interpreter.
INTERPRETER_PROBE = "import json, sys\nprint(json.dumps({'executable': sys.executable, 'prefix': sys.prefix}))"


def checks_of(path: Path) -> dict[str, str]:
    """The check sections of a notebook, by the id of the cell they follow (none if it has no checks file)."""
    file = CHECKS_DIR / f"{path.stem}.py"
    if not file.exists():
        return {}
    parts = SECTION.split(file.read_text(encoding="utf-8"))
    sections: dict[str, str] = {}
    for cell_id, code in zip(parts[1::2], parts[2::2]):
        assert cell_id not in sections, f"{file.name}: two sections after {cell_id}"
        sections[cell_id] = code.strip("\n")
    return sections


def make_kernel_dir(directory: Path) -> Path:
    """A private kernel spec in ``directory`` whose argv starts with sys.executable (this venv's python)."""
    write_kernel_spec(directory / KERNEL_NAME, overrides={"display_name": "chainrule test kernel"})
    argv = json.loads((directory / KERNEL_NAME / "kernel.json").read_text())["argv"]
    assert argv[0] == sys.executable, argv
    return directory


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> Path:
    return make_kernel_dir(tmp_path_factory.mktemp("kernels"))


def _kernel_manager_class(kernel_dir: Path) -> type[AsyncKernelManager]:
    class ThisInterpreterKernelManager(AsyncKernelManager):
        """Looks kernel specs up only in ``kernel_dir``: user or system specs cannot take over."""

        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return KernelSpecManager(kernel_dirs=[str(kernel_dir)])

    return ThisInterpreterKernelManager


def _client(nb, kernel_dir: Path):
    return nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=_kernel_manager_class(kernel_dir),
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
        record_timing=False,  # no timestamps in the stored notebooks: they diff on content only
    )


def _failure_report(name: str, label: str, cell, error: Exception) -> str:
    """The notebook, the cell and its source, and the error with its traceback, without colour codes."""
    if isinstance(error, CellExecutionError):
        detail = str(error)  # nbclient's report: the cell's source, its output, the traceback
    else:  # timeout or dead kernel: the message does not show the cell
        rule = "-" * 18
        detail = f"{rule}\n{cell.source}\n{rule}\n{type(error).__name__}: {error}"
    return f"{name}: {label} failed\n{ANSI.sub('', detail).strip()}"


def _text_outputs(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


def test_every_checks_file_belongs_to_a_notebook():
    names = {p.stem for p in NOTEBOOKS}
    assert {f.stem for f in CHECKS_DIR.glob("*.py")} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_with_its_outputs(path: Path):
    """Stored outputs (so GitHub shows the pictures) from one clean top-to-bottom run, without errors."""
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size} bytes (limit {MAX_BYTES}); draw smaller pictures"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not one run from the top: run `make notebooks`")
    errors = [cell.id for cell in code for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{path.name}: cells {errors} stored an error"
    assert any(key.startswith("image/") for cell in code for out in cell.outputs for key in out.get("data", {})), \
        f"{path.name}: no picture stored"
    stale = [cell.id for cell in code if not cell.outputs and cell.source.strip()
             and not cell.source.rstrip().endswith(";")
             and re.search(r"\bprint\(|plt\.show\(\)|display\(", cell.source)]
    assert not stale, f"{path.name}: cells {stale} print or draw but have no stored output: run `make notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_teaching_cells_hold_no_checks(path: Path):
    """Assertions belong in tests/notebook_checks, not in the cells a student reads."""
    nb = nbformat.read(path, as_version=4)
    found = [cell.id for cell in nb.cells if cell.cell_type == "code"
             and re.search(r"^\s*assert\b|AssertionError", cell.source, re.M)]
    assert not found, f"{path.name}: cells {found} assert; move the checks to tests/notebook_checks/{path.stem}.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_its_numbers_check_out(path: Path, kernel_dir: Path):
    """Run every cell in order in a fresh kernel, each followed by its checks."""
    nb = nbformat.read(path, as_version=4)
    checks = checks_of(path)
    ids = [cell.id for cell in nb.cells]
    unknown = sorted(set(checks) - set(ids))
    assert not unknown, f"tests/notebook_checks/{path.stem}.py: no cell {unknown} in {path.name}"
    cells, labels = [], []
    for cell in nb.cells:
        cells.append(cell)
        labels.append(f"cell {cell.id}")
        if cell.id in checks:
            cells.append(nbformat.v4.new_code_cell(checks[cell.id]))
            labels.append(f"the check after cell {cell.id} (tests/notebook_checks/{path.stem}.py)")
    cells.append(nbformat.v4.new_code_cell(INTERPRETER_PROBE))
    labels.append("the interpreter probe")
    nb.cells = cells
    client = _client(nb, kernel_dir)
    start = time.perf_counter()
    with client.setup_kernel():
        for index, (cell, label) in enumerate(zip(nb.cells, labels)):
            try:
                client.execute_cell(cell, index)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
                pytest.fail(_failure_report(path.name, label, cell, error), pytrace=False)
    elapsed = time.perf_counter() - start

    probe = json.loads(_text_outputs(nb.cells[-1]))
    assert probe["prefix"] == sys.prefix, f"kernel ran {probe['executable']}, not {sys.executable}"
    assert elapsed < NOTEBOOK_BUDGET, f"{path.name} took {elapsed:.1f} s (budget {NOTEBOOK_BUDGET} s)"


def regenerate(paths: list[Path], kernel_dir: Path) -> None:
    """Execute each notebook top to bottom (no checks) and store its outputs in place."""
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        kernelspec = nb.metadata.get("kernelspec")
        start = time.perf_counter()
        _client(nb, kernel_dir).execute()
        if kernelspec is not None:  # keep the reader's default kernel, not the private one used here
            nb.metadata["kernelspec"] = kernelspec
        nbformat.validate(nb)
        nbformat.write(nb, path)
        print(f"{path.relative_to(NOTEBOOK_DIR.parent)}: executed in {time.perf_counter() - start:.1f} s, "
              f"{path.stat().st_size:,} bytes")


if __name__ == "__main__":
    import tempfile

    chosen = [p for p in NOTEBOOKS if not sys.argv[1:] or any(a in p.name for a in sys.argv[1:])]
    with tempfile.TemporaryDirectory() as tmp:
        regenerate(chosen, make_kernel_dir(Path(tmp)))
