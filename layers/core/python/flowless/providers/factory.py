"""One way to make a chat model from a component's settings: "openai" (any OpenAI-compatible API) or "bedrock"."""

from __future__ import annotations

from typing import Any

from flowless.providers.errors import ProviderConfigError

__all__ = ["create_provider"]


def create_provider(kind: str, *, allow_private: bool = False, **settings: Any) -> Any:
    """A provider for `kind`, configured from `settings` (None values mean "use the default").

    Example:
        model = create_provider("openai", model="gpt-4o-mini", api_key=key, temperature=0.1)
        text = await model.complete([{"role": "user", "content": "hi"}])
    """
    settings = {k: v for k, v in settings.items() if v is not None}
    if kind == "openai":
        from flowless.providers.openai_compat import OpenAICompatibleProvider

        model = settings.pop("model")
        return OpenAICompatibleProvider(model, allow_private=allow_private, **settings)
    if kind == "bedrock":
        from flowless.providers.bedrock import BedrockProvider

        model_id = settings.pop("model")
        return BedrockProvider(model_id, **settings)
    raise ProviderConfigError(f"Unknown model provider {kind!r}")
