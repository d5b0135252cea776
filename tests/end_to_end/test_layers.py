"""The package's layers, as pyproject.toml's import-linter contracts write them down, hold (CI runs this).

Commands and the test kit > console and metrics > the ASGI shell > receiver parts (layered inside) > foundations;
the clients, the simulator, the stores and the platforms' wire formats never import the receiver.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_linter_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_the_asgi_shell_stays_thin() -> None:
    # app.py wires the receiver's parts (callhooks/receiver/); behaviour that grows there belongs in a part
    lines = (ROOT / "callhooks" / "app.py").read_text().count("\n")
    assert lines <= 300, f"callhooks/app.py has {lines} lines: move the new job into a module of callhooks/receiver/"
