"""The runtime install is the library alone; what serves, orchestrates or stores is an extra,
and a command whose extra is missing says which one to install."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from conftest import ROOT

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


def test_a_missing_extra_is_one_clear_line() -> None:
    code = (
        "import sys; sys.modules['werkzeug'] = None; "
        "from pd_toolkit.cli import main; sys.exit(main(['sandbox', '--port', '0']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "pip install 'pd_toolkit[sandbox]'" in done.stdout
    assert "Traceback" not in done.stderr
