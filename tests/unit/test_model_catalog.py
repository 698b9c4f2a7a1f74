"""FLOWLESS_MODELS: the model names clients may send, and the providers behind them."""

from __future__ import annotations

import json

import pytest

from flowless.errors import UnknownModelError
from flowless.model_catalog import ConfiguredModel, configured_models, find_model, parse_models


def test_both_forms_parse() -> None:
    models = parse_models(json.dumps({
        "gpt": "openai:gpt-4o",
        "qwen": {"provider": "openai", "model": "Qwen/QwQ-32B", "base_url": "http://10.0.0.5:8000/v1",
                 "api_key_variable": "QWEN_KEY"},
        "claude": "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0",
    }))
    assert models["gpt"] == ConfiguredModel(name="gpt", provider="openai", model="gpt-4o")
    assert models["qwen"].base_url == "http://10.0.0.5:8000/v1" and models["qwen"].api_key_variable == "QWEN_KEY"
    # Only the first ":" separates the provider: Bedrock ids contain colons.
    assert models["claude"].model == "anthropic.claude-3-5-haiku-20241022-v1:0"
    assert parse_models("") == {} and parse_models("  ") == {}


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not JSON"), ("[1]", "JSON object"), ('{"a": 5}', "an object or"),
    ('{"a": "azure:x"}', "needs a provider"), ('{"a": {"provider": "openai"}}', "needs a provider"),
])
def test_a_malformed_setting_says_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_models(raw)


def test_find_model_names_the_configured_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_MODELS", '{"b": "openai:x", "a": "openai:y"}')
    get_settings.cache_clear()
    assert list(configured_models()) == ["a", "b"]
    assert find_model("b").model == "x"
    with pytest.raises(UnknownModelError, match="'c' is not configured here; configured models: a, b"):
        find_model("c")
