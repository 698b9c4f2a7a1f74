"""Chat models: Language Model, the legacy OpenAI component, Amazon Bedrock, and Structured Output.

A model component answers with text (`text_output`), or hands a configured model to another component
(`model_output`). With `stream` on (Langflow sets it on streamed runs) the text arrives as a TokenStream that
Chat Output forwards token by token. Providers are imported only when a model runs.
"""

from __future__ import annotations

import json
from typing import Any

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Data, DataFrame, Message, ModelHandle, TokenStream, text_of

__all__ = ["COMPONENTS", "INTERNAL_COMPONENTS", "AmazonBedrockConverseModel", "ConversationModel",
           "LanguageModelComponent", "OpenAIModel", "StructuredOutput"]

_BASE_INPUTS = (
    Input("input_value", "Input", input_types=("Message",)),
    Input("system_message", "System Message", value="", advanced=False),
    Input("stream", "Stream", type="bool", value=False, advanced=True),
)


def _number(value: Any, kind: type) -> Any:
    """A numeric field as a flow stores it ("" and None mean unset)."""
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def chat_messages(system: Any, user: Any) -> list[dict[str, str]]:
    """The messages a Langflow model component sends: an optional system message, then the input."""
    messages = []
    if text_of(system).strip():
        messages.append({"role": "system", "content": text_of(system)})
    messages.append({"role": "user", "content": text_of(user)})
    return messages


def open_model(component: Component, handle: ModelHandle) -> Any:
    """A provider for a model handle, through the run's factory (or the default one)."""
    factory = component.ctx.services.models
    if factory is None:
        from flowless.providers.factory import create_provider

        factory = create_provider
    settings = dict(handle.settings)
    settings["on_usage"] = component.ctx.usage.add   # token counts the provider reports go to the run
    # A model the deployment configured (FLOWLESS_MODELS) may live on a private network; a flow's own URL may not.
    operator_configured = settings.pop("operator_configured", False)
    if handle.provider == "openai":
        allow_private = operator_configured or component.ctx.services.allow_private_network
        return factory("openai", allow_private=allow_private, **settings)
    return factory(handle.provider, **settings)


class _ChatModel(Component):
    """What every model component shares: answer text (maybe streamed) or hand over the model."""

    category = "models"
    outputs = (
        Output("text_output", "text_response", ("Message",), "Model Response"),
        Output("model_output", "build_model", ("LanguageModel",), "Language Model"),
    )

    def build_model(self) -> ModelHandle:
        raise NotImplementedError

    def chat(self) -> list[dict[str, Any]]:
        """The messages this component sends the model."""
        return chat_messages(self.params.get("system_message"), self.params.get("input_value"))

    async def text_response(self) -> Message | TokenStream:
        handle = self.build_model()
        model = open_model(self, handle)
        messages = self.chat()
        if _truthy(self.params.get("stream")):
            return TokenStream(model.stream(messages), source={"source": handle.model_name})
        text = await model.complete(messages)
        return Message(text=text, flow_id=self.ctx.flow_id, session_id=self.ctx.session_id)


class LanguageModelComponent(_ChatModel):
    kind = "LanguageModelComponent"
    display_name = "Language Model"
    description = "Runs a language model given a specified provider."
    icon = "brain-circuit"
    inputs = (
        Input("provider", "Model Provider", value="OpenAI", options=("OpenAI", "Anthropic", "Google")),
        Input("model_name", "Model Name", value="gpt-4o-mini"),
        Input("api_key", "OpenAI API Key", type="str", value="OPENAI_API_KEY", password=True, load_from_db=True),
        *_BASE_INPUTS,
        Input("temperature", "Temperature", type="slider", value=0.1, advanced=True),
    )

    def build_model(self) -> ModelHandle:
        provider = text_of(self.param("provider", "OpenAI")) or "OpenAI"
        if provider != "OpenAI":
            raise ValueError(f"Model provider {provider!r} is not supported here; use OpenAI (or any "
                             "OpenAI-compatible server through OPENAI_BASE_URL) or the Amazon Bedrock component")
        model = text_of(self.param("model_name", "gpt-4o-mini"))
        return ModelHandle("openai", model, {
            "model": model, "api_key": self.params.get("api_key") or None,
            "temperature": _number(self.param("temperature"), float),
        })


class OpenAIModel(_ChatModel):
    kind = "OpenAIModel"
    display_name = "OpenAI"
    description = "Generates text using OpenAI LLMs."
    icon = "OpenAI"
    inputs = (
        *_BASE_INPUTS,
        Input("max_tokens", "Max Tokens", type="int", value="", advanced=True),
        Input("model_kwargs", "Model Kwargs", type="dict", value={}, advanced=True),
        Input("json_mode", "JSON Mode", type="bool", value=False, advanced=True),
        Input("model_name", "Model Name", value="gpt-4o-mini"),
        Input("openai_api_base", "OpenAI API Base", value="", advanced=True),
        Input("api_key", "OpenAI API Key", value="OPENAI_API_KEY", password=True, load_from_db=True),
        Input("temperature", "Temperature", type="slider", value=0.1),
        Input("seed", "Seed", type="int", value=1, advanced=True),
        Input("max_retries", "Max Retries", type="int", value=5, advanced=True),
        Input("timeout", "Timeout", type="int", value=700, advanced=True),
    )

    def build_model(self) -> ModelHandle:
        model = text_of(self.param("model_name", "gpt-4o-mini"))
        extra: dict[str, Any] = dict(self.params.get("model_kwargs") or {})
        seed = _number(self.param("seed"), int)
        if seed is not None:
            extra.setdefault("seed", seed)
        if _truthy(self.params.get("json_mode")):
            extra["response_format"] = {"type": "json_object"}
        return ModelHandle("openai", model, {
            "model": model, "api_key": self.params.get("api_key") or None,
            "base_url": text_of(self.params.get("openai_api_base")) or None,
            "temperature": _number(self.param("temperature"), float),
            "max_tokens": _number(self.params.get("max_tokens"), int),
            "timeout": _number(self.param("timeout"), float),
            "max_retries": _number(self.param("max_retries"), int),
            "extra": extra or None,
        })


class AmazonBedrockConverseModel(_ChatModel):
    """Amazon Bedrock through the Converse API, with the function's own AWS credentials."""

    kind = "AmazonBedrockConverseModel"
    aliases = ("AmazonBedrockModel",)
    display_name = "Amazon Bedrock Converse"
    description = "Generate text using Amazon Bedrock LLMs with the Converse API."
    icon = "Amazon"
    inputs = (
        *_BASE_INPUTS,
        Input("model_id", "Model ID", value="anthropic.claude-3-haiku-20240307-v1:0"),
        Input("region_name", "Region Name", value="us-east-1"),
        Input("temperature", "Temperature", type="slider", value=0.7, advanced=True),
        Input("max_tokens", "Max Tokens", type="int", value=4096, advanced=True),
        Input("top_p", "Top P", type="slider", value=0.9, advanced=True),
    )

    def build_model(self) -> ModelHandle:
        # Access keys in a flow are ignored on purpose: the function's IAM role is the credential.
        model = text_of(self.param("model_id"))
        return ModelHandle("bedrock", model, {
            "model": model, "region": text_of(self.param("region_name")) or None,
            "temperature": _number(self.param("temperature"), float),
            "max_tokens": _number(self.param("max_tokens"), int), "top_p": _number(self.param("top_p"), float),
        })


class ConversationModel(_ChatModel):
    """A configured model (FLOWLESS_MODELS) over a whole conversation: what DB-GPT's chat and the
    OpenAI-compatible model API run, as a graph of their own, so they share the engine with every flow.
    Not in the component catalog: Langflow flows do not use it."""

    kind = "FlowlessConversationModel"
    display_name = "Conversation Model"
    description = "Answers a conversation with a model configured for this deployment."
    inputs = (
        *_BASE_INPUTS,
        Input("messages", "Messages", type="other", value=[], is_list=True),
        Input("model_name", "Model Name", value=""),
        Input("temperature", "Temperature", type="float", value=None),
        Input("max_tokens", "Max Tokens", type="int", value=None),
        # DB-GPT's higher-order LLM operators: "window" adds the session's earlier rounds (all of them, or the
        # first `keep_start_rounds` and last `keep_end_rounds`); "none" answers the input alone.
        Input("history_mode", "History", value="none", options=("none", "window")),
        Input("keep_start_rounds", "Keep Start Rounds", type="int", value=None),
        Input("keep_end_rounds", "Keep End Rounds", type="int", value=None),
    )

    def build_model(self) -> ModelHandle:
        from flowless.model_catalog import find_model

        configured = find_model(text_of(self.params.get("model_name")) or None)
        settings: dict[str, Any] = {"model": configured.model, "operator_configured": True,
                                    "temperature": _number(self.params.get("temperature"), float),
                                    "max_tokens": _number(self.params.get("max_tokens"), int)}
        if configured.provider == "openai":
            settings.update(api_key=self.ctx.services.variables(configured.api_key_variable) or None,
                            base_url=configured.base_url)
        else:
            settings["region"] = configured.region
        return ModelHandle(configured.provider, configured.model, settings)

    def chat(self) -> list[dict[str, Any]]:
        messages = []
        if text_of(self.params.get("system_message")).strip():
            messages.append({"role": "system", "content": text_of(self.params["system_message"])})
        for message in self.params.get("messages") or []:
            if isinstance(message, dict) and message.get("role"):
                messages.append({"role": str(message["role"]), "content": message.get("content") or ""})
        if text_of(self.params.get("history_mode")) == "window":
            messages += self._history()
        if text_of(self.params.get("input_value")).strip():
            messages.append({"role": "user", "content": text_of(self.params["input_value"])})
        if not messages:
            raise ValueError("There is no message to answer")
        return messages

    def _history(self) -> list[dict[str, str]]:
        """The session's earlier rounds (a user message and the answers after it), oldest first; this run's own
        messages are stored only when it ends, so they are not among them."""
        history = self.ctx.services.history
        if history is None:
            return []
        rounds: list[list[dict[str, str]]] = []
        for message in history.history(session_id=self.ctx.session_id):
            role = "user" if message.sender == "User" else "assistant"
            if role == "user" or not rounds:
                rounds.append([])
            rounds[-1].append({"role": role, "content": message.text})
        start = _number(self.params.get("keep_start_rounds"), int)
        end = _number(self.params.get("keep_end_rounds"), int)
        if start is not None or end is not None:
            first = rounds[:start or 0]
            last = rounds[max(len(first), len(rounds) - (end or 0)):]
            rounds = first + last
        return [message for chosen in rounds for message in chosen]


_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object",
               "list": "array", "number": "number", "boolean": "boolean", "string": "string", "integer": "integer"}


def _schema(fields: Any) -> dict[str, Any]:
    """Structured Output's table of fields as the JSON schema of one object."""
    properties: dict[str, Any] = {}
    for spec in fields or []:
        if not isinstance(spec, dict) or not spec.get("name"):
            continue
        kind = {"type": _JSON_TYPES.get(str(spec.get("type", "str")), "string")}
        if spec.get("description"):
            kind["description"] = str(spec["description"])
        if _truthy(spec.get("multiple")):
            kind = {"type": "array", "items": kind}
        properties[str(spec["name"])] = kind
    if not properties:
        raise ValueError("Output schema cannot be empty")
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


class StructuredOutput(Component):
    """Ask a model for JSON objects matching a table of fields; answer them as Data and as a DataFrame."""

    kind = "StructuredOutput"
    display_name = "Structured Output"
    description = "Uses an LLM to generate structured data. Ideal for extraction and consistency."
    category = "models"
    icon = "braces"
    inputs = (
        Input("llm", "Language Model", type="other", input_types=("LanguageModel",), required=True),
        Input("input_value", "Input Message", input_types=("Message",), required=True),
        Input("system_prompt", "Format Instructions",
              value="You are an AI that extracts structured JSON objects from unstructured text."),
        Input("schema_name", "Schema Name", value="", advanced=True),
        Input("output_schema", "Output Schema", type="table", value=[], is_list=True, required=True),
    )
    outputs = (
        Output("structured_output", "build_structured_output", ("Data",), "Structured Output"),
        Output("dataframe_output", "build_structured_dataframe", ("DataFrame",), "Structured Output"),
    )

    async def _objects(self) -> list[dict[str, Any]]:
        cached = getattr(self, "_cached", None)
        if cached is not None:
            return cached
        handle = self.params.get("llm")
        if not isinstance(handle, ModelHandle):
            raise ValueError("Structured Output needs a Language Model connected to its llm input")
        item = _schema(self.params.get("output_schema"))
        name = text_of(self.params.get("schema_name")) or "OutputModel"
        schema = {"type": "object", "properties": {"objects": {"type": "array", "items": item}},
                  "required": ["objects"], "additionalProperties": False}
        system = (text_of(self.param("system_prompt")) + "\n\nAnswer with JSON only, matching this schema: "
                  + json.dumps(schema))
        model = open_model(self, handle)
        options: dict[str, Any] = {}
        if handle.provider == "openai":
            options["response_format"] = {"type": "json_schema",
                                          "json_schema": {"name": name, "schema": schema, "strict": True}}
        text = await model.complete(chat_messages(system, self.params.get("input_value")), **options)
        self._cached = _parse_objects(text)
        return self._cached

    async def build_structured_output(self) -> Data:
        objects = await self._objects()
        # Langflow answers one object as itself and several as {"results": [...]}.
        return Data(data=objects[0] if len(objects) == 1 else {"results": objects})

    async def build_structured_dataframe(self) -> DataFrame:
        return DataFrame(rows=await self._objects())


def _parse_objects(text: str) -> list[dict[str, Any]]:
    raw = text.strip()
    if raw.startswith("```"):
        raw = raw.strip("`")
        raw = raw[raw.find("\n") + 1:] if "\n" in raw else raw
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"The model did not answer with JSON: {text[:200]!r}") from exc
    objects = parsed.get("objects", parsed) if isinstance(parsed, dict) else parsed
    if isinstance(objects, dict):
        objects = [objects]
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise ValueError("The model's JSON is not a list of objects")
    if not objects:
        raise ValueError("No structured output returned")
    return objects


COMPONENTS = [LanguageModelComponent, OpenAIModel, AmazonBedrockConverseModel, StructuredOutput]
# Run by DB-GPT's chat and the model API; kept out of the catalog.
INTERNAL_COMPONENTS = [ConversationModel]
