"""The client's place in the layers: no backend imported, a clear error without urllib3."""

from __future__ import annotations

import subprocess
import sys


def test_client_imports_no_backend() -> None:
    """Importing the client pulls in neither registry storage nor OCI layouts."""
    script = (
        "import sys\n"
        "import pydistribution.client\n"
        "import pydistribution.client.credentials\n"
        "banned = ('storage', 'layout', 'server', 'cli', 'transfer')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2][-1] in banned"
        " and m.startswith('pydistribution.'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_missing_urllib3_names_the_extra() -> None:
    script = "import sys\nsys.modules['urllib3'] = None\nimport pydistribution.client\n"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert "pip install 'pydistribution[client]'" in result.stderr
