"""The runtime install is the library alone; what serves, orchestrates or stores is an extra,
and a command whose extra is missing says which one to install, in one line (brackets
included: Rich markup must not eat ``[mcp]``)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import ROOT

from pd_toolkit.cli import EXTRAS, extra_hint

OPTIONAL = ("langgraph", "werkzeug", "mcp", "uvicorn", "psycopg", "langgraph-checkpoint")


def test_runtime_dependencies_leave_servers_graphs_and_drivers_to_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert [name for name in OPTIONAL if name in runtime] == []
    extras = project["optional-dependencies"]
    assert any(d.startswith("werkzeug") for d in extras["sandbox"])
    assert any(d.startswith("langgraph") for d in extras["agents"])
    assert any(d.startswith("mcp") for d in extras["mcp"])


def test_the_library_imports_none_of_them() -> None:
    code = (
        "import sys, pd_toolkit, pd_toolkit.toolkit, pd_toolkit.tools, pd_toolkit.history; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert [
        name for name in ("langgraph", "werkzeug", "mcp", "uvicorn") if f"'{name}'" in loaded
    ] == []


@pytest.mark.parametrize(
    ("missing", "arguments", "extra"),
    [
        ("werkzeug", ["sandbox", "--port", "0"], "sandbox"),
        ("werkzeug", ["sandbox-trigger", "--mode", "pg_pool_exhausted"], "sandbox"),
        ("mcp", ["mcp"], "mcp"),
        ("uvicorn", ["mcp", "--http"], "mcp"),
    ],
)
def test_a_missing_extra_is_one_clear_line(missing: str, arguments: list[str], extra: str) -> None:
    code = (
        f"import sys; sys.modules[{missing!r}] = None; "
        f"from pd_toolkit.cli import main; sys.exit(main({arguments!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: this command needs the {extra} extra: pip install 'pd_toolkit[{extra}]'\n"
    )


@pytest.mark.parametrize(("module", "extra"), sorted(EXTRAS.items()))
def test_every_extra_hint_keeps_its_brackets(module: str, extra: str) -> None:
    hint = extra_hint(ModuleNotFoundError(f"No module named {module!r}", name=f"{module}.sub"))
    assert hint is not None and hint.endswith(f"pip install 'pd_toolkit[{extra}]'")


def test_agents_without_langgraph_say_which_extra(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text("import sys; sys.modules['langgraph'] = None\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "agents.investigate", "--sandbox"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr == "error: agents/ needs LangGraph: pip install 'pd_toolkit[agents]'\n"


@pytest.mark.parametrize("target", ["test", "notebook"])
def test_make_test_and_notebook_never_see_real_credentials(target: str) -> None:
    """With a real key in the shell, ``make test`` (which runs the notebook) and ``make
    notebook`` still run on the sandbox only: the recipe unsets every credential."""
    recipe = subprocess.run(
        ["make", "-n", "-B", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PAGERDUTY_API_KEY": "real-key-in-the-shell-0000"},
    ).stdout.replace("\\\n", " ")
    run = next(line for line in recipe.splitlines() if "-m pytest" in line or "nbclient" in line)
    for variable in ("PAGERDUTY_API_KEY", "PAGERDUTY_USER_API_KEY", "PAGERDUTY_OAUTH_TOKEN"):
        assert f"-u {variable}" in run, (variable, run)
