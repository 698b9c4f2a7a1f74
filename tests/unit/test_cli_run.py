"""`flowless run FLOW.json`: a flow export run locally, its result on stdout, progress on stderr."""

from __future__ import annotations

import json

from flowless.cli import main
from tests.support import FIXTURES

SIMPLE = str(FIXTURES / "langflow" / "no-llm" / "SimpleAPITest.json")


def test_prints_the_result_as_lfx_does(capsys):
    assert main(["run", SIMPLE, "--input", "hello lfx"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"result": "hello lfx", "type": "message", "component": "Chat Output",
                               "component_id": "ChatOutput-J6aor", "success": True, "logs": ""}
    assert "built Chat Input (ChatInput-3OQi9)" in err and "built Chat Output" in err


def test_tweaks_apply(capsys):
    assert main(["run", SIMPLE, "--input", "x", "--tweaks", '{"Text Input": {"input_value": "Bot"}}',
                 "--output-type", "debug"]) == 0
    assert json.loads(capsys.readouterr().out)["result"] == "x"


def test_unsupported_flow_fails_clearly(capsys):
    code = main(["run", str(FIXTURES / "langflow" / "Simple Agent.json"), "--input", "hi"])
    assert code == 2
    assert "Unsupported component type: Agent" in capsys.readouterr().err


def test_component_error_is_reported(capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = main(["run", str(FIXTURES / "langflow" / "Basic Prompting.json"), "--input", "hi"])
    assert code == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer["success"] is False and "OPENAI_API_KEY" in answer["error"]


def test_readme_lists_every_supported_component():
    import re
    from pathlib import Path

    from flowless.components.registry import default_registry

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### Supported components", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Za-z]+)`", table))
    kinds = {k for k in default_registry().classes if k[0].isupper() and " " not in k}
    assert kinds - listed == set()
