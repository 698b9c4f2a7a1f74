"""Configuration: one pydantic-settings class read from FLOWLESS_* environment variables.

Values come from template.yaml's Globals in Lambda and from `flowless dev` locally. Read it through
`get_settings()`, never at import, so a test can change the environment before first use.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every FLOWLESS_* setting, typed and validated at first use."""

    model_config = SettingsConfigDict(env_prefix="FLOWLESS_", env_ignore_empty=True, extra="ignore")

    table_name: str = "flowless"
    bucket_name: str = "flowless-files"
    run_queue_url: str = ""

    # Keyless requests act as the superuser. On under `flowless dev`, off in the deployed stack.
    auto_login: bool = False
    superuser: str = "langflow"
    bootstrap_api_key: SecretStr | None = None
    webhook_auth_enable: bool = False

    # Langflow's LANGFLOW_MAX_FILE_SIZE_UPLOAD, in MB: the request-body limit of every route.
    max_file_size_upload: int = Field(default=1024, ge=1)
    default_folder_name: str = "Starter Project"
    # Flows may call loopback and private addresses (a local model server, tests). Link-local and cloud
    # metadata addresses stay refused whatever this says.
    allow_private_network: bool = False

    # Where `load_from_db` variables (e.g. OPENAI_API_KEY) are looked up after the request and the environment:
    # an SSM Parameter Store path ("/flowless/variables" -> /flowless/variables/OPENAI_API_KEY) and a Secrets
    # Manager name prefix. Empty turns that source off.
    variables_parameter_path: str = ""
    variables_secret_prefix: str = ""

    # A streamed run sends a keep-alive after this long without an event (API Gateway cuts streams idle 5 min).
    stream_keepalive_seconds: float = Field(default=15.0, gt=0)

    # The models clients may name in DB-GPT's chat and the OpenAI-compatible model API, as a JSON object
    # (see flowless.model_catalog): {"gpt-4o": {"provider": "openai", "model": "gpt-4o"}, ...}.
    models: str = ""

    # Langflow's LANGFLOW_DISABLE_TRACK_APIKEY_USAGE: by default every request with a key counts a use of it
    # (total_uses, last_used_at), one DynamoDB write per request; true saves that write.
    disable_track_apikey_usage: bool = False

    # How long a resolved API key is trusted by a warm container before it is looked up again.
    api_key_cache_seconds: float = Field(default=30.0, ge=0)

    @field_validator("superuser")
    @classmethod
    def _superuser_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("FLOWLESS_SUPERUSER must not be blank")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
