"""The models clients may name: DB-GPT's `model` field and the OpenAI-compatible API's, from FLOWLESS_MODELS.

FLOWLESS_MODELS is a JSON object from the name a client sends to the provider that answers it:

    {"gpt-4o": {"provider": "openai", "model": "gpt-4o"},
     "qwen": {"provider": "openai", "model": "Qwen/QwQ-32B", "base_url": "http://10.0.0.5:8000/v1",
              "api_key_variable": "QWEN_API_KEY"},
     "claude": "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0"}

The short form is "<provider>:<provider's model id>". An "openai" model (any OpenAI-compatible server) reads
its key from the variable named by `api_key_variable` (OPENAI_API_KEY by default), resolved like a flow's
`load_from_db` fields: request header, environment, SSM, Secrets Manager. A "bedrock" model uses the
function's IAM role, in `region` or the function's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from flowless.errors import UnknownModelError

__all__ = ["ConfiguredModel", "configured_models", "find_model", "parse_models"]

_PROVIDERS = ("openai", "bedrock")


@dataclass(frozen=True)
class ConfiguredModel:
    """One model clients may name, and how to reach it."""

    name: str
    provider: str
    model: str
    base_url: str | None = None
    api_key_variable: str = "OPENAI_API_KEY"
    region: str | None = None


def _entry(name: str, spec: object) -> ConfiguredModel:
    if isinstance(spec, str):
        provider, _, model = spec.partition(":")
        spec = {"provider": provider, "model": model}
    if not isinstance(spec, dict):
        raise ValueError(f"FLOWLESS_MODELS[{name!r}] must be an object or \"provider:model\"")
    provider = str(spec.get("provider", ""))
    model = str(spec.get("model") or "")
    if provider not in _PROVIDERS or not model:
        raise ValueError(f"FLOWLESS_MODELS[{name!r}] needs a provider ({' or '.join(_PROVIDERS)}) and a model")
    return ConfiguredModel(name=name, provider=provider, model=model, base_url=spec.get("base_url") or None,
                           api_key_variable=str(spec.get("api_key_variable") or "OPENAI_API_KEY"),
                           region=spec.get("region") or None)


@lru_cache(maxsize=4)
def parse_models(raw: str) -> dict[str, ConfiguredModel]:
    """FLOWLESS_MODELS' text as models by name; a malformed setting is a deployment error (ValueError)."""
    if not raw.strip():
        return {}
    try:
        table = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"FLOWLESS_MODELS is not JSON: {exc}") from exc
    if not isinstance(table, dict):
        raise ValueError("FLOWLESS_MODELS must be a JSON object of model names")
    return {str(name): _entry(str(name), spec) for name, spec in table.items()}


def configured_models() -> dict[str, ConfiguredModel]:
    """The models of this deployment, by the name clients send, sorted by name."""
    from flowless.settings import get_settings

    models = parse_models(get_settings().models)
    return dict(sorted(models.items()))


def find_model(name: str | None) -> ConfiguredModel:
    """The configured model a client named; UnknownModelError saying which names exist otherwise."""
    models = configured_models()
    if name and name in models:
        return models[name]
    known = ", ".join(models) or "none (set FLOWLESS_MODELS)"
    raise UnknownModelError(f"Model {name!r} is not configured here; configured models: {known}")
