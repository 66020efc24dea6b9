"""The ``torch`` fixture of the lecture-style programs: torch (skipped where it is not installed),
single-threaded for each module, since its two default threads only contend on a 2-core machine."""

import importlib.util
import pathlib

import pytest

_spec = importlib.util.spec_from_file_location("lectures_names", pathlib.Path(__file__).with_name("_names.py"))
_names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_names)


@pytest.fixture(scope="module")
def torch():
    yield from _names.torch_single_threaded()
