"""The web app talks to the workflows but never runs activities: importing it must not load the
activities' modules (their database and mail code) nor the worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOADED = (
    "import sys, web.app; "
    "print('\\n'.join(sorted(m for m in sys.modules "
    "if m == 'worker' or m == 'activities' or m.startswith('activities.'))))"
)


def test_the_web_app_loads_no_activity_module_and_not_the_worker() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ran.stdout.split() == []
