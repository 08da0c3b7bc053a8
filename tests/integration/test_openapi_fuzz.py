"""Schemathesis against the real server's OpenAPI spec: generated requests to every operation, no 5xx.

Its own server and workspace (the fuzzer uploads documents with the token, which would change the
corpus other tests share). The schemathesis CLI runs as a subprocess, as a user would run it, with a
fixed seed and a bounded number of cases per operation so the run stays short on 2 cores; the point is
that malformed and edge-case input gets a 4xx, never a server error.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from serve_server import TOKEN, build_workspace, running_server

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 20


def schemathesis_cli() -> str:
    exe = Path(sys.executable).with_name("schemathesis")
    found = str(exe) if exe.is_file() else shutil.which("schemathesis")
    if not found:
        pytest.skip("needs schemathesis (the dev extra: pip install -e '.[dev]')")
    return found


def test_generated_requests_never_get_a_server_error(tmp_path: Path) -> None:
    cli = schemathesis_cli()
    workspace = build_workspace(tmp_path)
    with running_server(workspace) as url:
        proc = subprocess.run(
            [cli, "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
             "--max-examples", str(MAX_EXAMPLES), "--seed", "7", "--generation-database", "none",
             "--request-timeout", "60", "--header", f"Authorization: Bearer {TOKEN}",
             "--report", "junit", "--report-dir", str(tmp_path / "report")],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-3000:]
    cases = [c for report in (tmp_path / "report").glob("junit-*.xml") for c in ET.parse(report).iter("testcase")]
    operations = {c.get("name") for c in cases}
    # every endpoint in the spec was exercised, none with a failure recorded
    assert {"GET /health", "GET /search", "POST /search", "POST /embed", "POST /rag", "POST /documents",
            "POST /feedback"} <= operations, operations
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
