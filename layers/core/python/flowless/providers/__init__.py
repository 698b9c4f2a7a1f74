"""Chat model providers behind the engine's ModelProvider protocol.

Each provider lives in its own module and imports its client library (httpx, boto3) at the top, so
importing this package stays cheap and a handler pays for a provider only when a model runs.

    flowless.providers.openai_compat   OpenAICompatibleProvider   OpenAI and servers speaking its API
    flowless.providers.bedrock         BedrockProvider            Amazon Bedrock's Converse API
"""

from flowless.providers.errors import ProviderConfigError, ProviderError

__all__ = ["ProviderConfigError", "ProviderError"]
