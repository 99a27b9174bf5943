"""tests/python/conftest.py — shared pytest fixtures for the attend package tests (run by ctest
with PYTHONPATH=build/python, ATTEND_CLI = the `attend` binary, ATTEND_DEFAULT_MODEL).

Reference data: $ATTEND_FIXTURES (default ../shared/fixtures) and ../shared (Multi30k, the bundled
model's transformers outputs), relative to the repository. Where absent, tests that need them
say so and skip; with CI=true a missing root is a failure.
"""
import os
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _missing(what: str, path: str):
    msg = f"{what} not found: {path} (set ATTEND_FIXTURES / put ../shared beside the repository)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg + "; skipping")


def fixtures_root() -> str:
    return os.environ.get("ATTEND_FIXTURES") or os.path.join(REPO, "..", "shared", "fixtures")


def shared_root() -> str:
    """The folder holding the fixtures (../shared by default): Multi30k and the bundled model's
    references are beside them."""
    return os.path.dirname(os.path.normpath(fixtures_root()))


def fixture_model(name: str) -> str:
    """The fixture model folder `name`, or skip/fail when absent."""
    p = os.path.join(fixtures_root(), "models", name)
    if not os.path.isfile(os.path.join(p, "cases.json")):
        _missing("fixture model", p)
    return p


def shared_file(*parts: str) -> str:
    p = os.path.join(shared_root(), *parts)
    if not os.path.isfile(p):
        _missing("reference data", p)
    return p


def read_lines(path: str):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


@pytest.fixture(scope="session")
def cli() -> str:
    """The `attend` command line (the C++ API through its thinnest front end)."""
    p = os.environ.get("ATTEND_CLI") or os.path.join(REPO, "build", "attend")
    assert os.access(p, os.X_OK), f"attend binary not found: {p} (set ATTEND_CLI)"
    return p


@pytest.fixture(scope="session")
def bundled_path() -> str:
    import attend
    p = os.environ.get("ATTEND_DEFAULT_MODEL") or attend.default_model_path()
    assert p and os.path.isfile(p), f"bundled model not found: {p}"
    return p


@pytest.fixture(scope="session")
def bundled(bundled_path):
    import attend
    return attend.Model(bundled_path, threads=1)


def run_cli(cli_path: str, args, input_text=None, check=True, timeout=120):
    r = subprocess.run([cli_path, *args], input=input_text, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"attend {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


@pytest.fixture(scope="session")
def multi30k_100():
    """The first 100 source lines of Multi30k test2016."""
    return read_lines(shared_file("data", "multi30k", "test_2016_flickr.en"))[:100]
