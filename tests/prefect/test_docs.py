"""The Python code blocks of docs/prefect.md run, in order, against the test server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_docs_code_blocks_run(tmp_path: Path, prefect_api: str) -> None:
    text = (REPO / "docs" / "prefect.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    script = tmp_path / "prefect_doc.py"
    body = "\n".join(blocks)
    script.write_text(
        'if __name__ == "__main__":\n' + "".join(f"    {line}\n" for line in body.splitlines())
    )
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout.split()
    for expected in ("1110", "110", "110000"):
        assert expected in printed, done.stdout
