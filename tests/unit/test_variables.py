"""load_from_db variables: request headers, then the environment, then SSM Parameter Store / Secrets Manager."""

from __future__ import annotations

import boto3
import pytest

from flowless.langflow.runner import request_variables
from flowless.langflow.services import VariableResolver


def test_request_headers_name_variables_upper_cased_with_hyphens_kept():
    headers = {"x-langflow-global-var-openai_api_key": "sk-1", "X-LANGFLOW-GLOBAL-VAR-API-KEY": "k",
               "x-api-key": "not a variable"}
    assert request_variables(headers) == {"OPENAI_API_KEY": "sk-1", "API-KEY": "k"}


def test_order_is_request_then_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    assert VariableResolver({"OPENAI_API_KEY": "from-request"})("OPENAI_API_KEY") == "from-request"
    assert VariableResolver({})("OPENAI_API_KEY") == "from-env"
    assert VariableResolver({})("UNSET_VARIABLE") is None


@pytest.fixture
def parameters_cache():
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    yield
    parameters.clear_caches()


def test_parameter_store_then_secrets_manager(aws, parameters_cache):
    boto3.client("ssm").put_parameter(Name="/flowless/variables/OPENAI_API_KEY", Value="sk-ssm",
                                      Type="SecureString")
    boto3.client("secretsmanager").create_secret(Name="flowless/variables/OTHER_KEY", SecretString="sk-secret")
    resolve = VariableResolver({}, parameter_path="/flowless/variables", secret_prefix="flowless/variables/")
    assert resolve("OPENAI_API_KEY") == "sk-ssm"
    assert resolve("OTHER_KEY") == "sk-secret"
    assert resolve("MISSING") is None


def test_without_configuration_no_aws_call_is_made(aws, parameters_cache):
    calls = []
    boto3.client("ssm").meta.events.register("before-call.*.*", lambda **kw: calls.append(kw))
    assert VariableResolver({})("NOT_THERE") is None
    assert calls == []
