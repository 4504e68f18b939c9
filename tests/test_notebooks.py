"""Every notebook in notebooks/ runs top to bottom (at reduced size) without error.

Convention for notebook authors: read `JAXSNN_NOTEBOOK_SMALL=1` from the environment and
shrink networks, steps and trials so the whole notebook runs in seconds.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("JAXSNN_NOTEBOOK_SMALL", "1")  # the kernel inherits it
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{path.name}: outputs must be stripped"
    # run in a temporary folder so a notebook writing files leaves the tree clean
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
