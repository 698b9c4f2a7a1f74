"""What the local stack takes from the functions' own Environment in template.yaml."""

from __future__ import annotations

from pathlib import Path

from flowless.local.template import load_template

TEMPLATE = """
Parameters:
  Models: {Type: String, Default: ""}
  Region: {Type: String, Default: eu-west-1}
Resources:
  One:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          AWS_LWA_INVOKE_MODE: response_stream
          AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap
          SHARED: same
          MODELS: !Ref Models
          REGION: !Ref Region
          DISAGREE: a
  Two:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {SHARED: same, DISAGREE: b, PORT: 8000}}
"""


def test_plain_values_and_parameter_defaults_without_the_adapters_or_disagreements(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    assert load_template(path).function_settings() == {"SHARED": "same", "REGION": "eu-west-1", "PORT": "8000"}


def test_the_projects_template_gives_the_variable_sources() -> None:
    settings = load_template(Path(__file__).resolve().parents[3] / "template.yaml").function_settings()
    assert settings["FLOWLESS_VARIABLES_PARAMETER_PATH"] == "/flowless/variables"
    assert settings["FLOWLESS_VARIABLES_SECRET_PREFIX"] == "flowless/variables/"
    assert not any(key.startswith("AWS_LWA_") for key in settings)
