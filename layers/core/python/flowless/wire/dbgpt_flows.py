"""DB-GPT's Flow object (FlowPanel) as a request body: POST and PUT /api/v2/serve/awel/flows."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["STATES", "FlowPanelBody", "can_change_state"]

State = Literal["initializing", "developing", "testing", "deployed", "running", "disabled", "load_failed"]
STATES: tuple[str, ...] = State.__args__  # type: ignore[attr-defined]

# DB-GPT's state machine: the states a flow may move to from each state.
_NEXT_STATES: dict[str, tuple[str, ...]] = {
    "initializing": ("developing", "initializing", "load_failed"),
    "developing": ("testing", "deployed", "disabled", "developing", "load_failed"),
    "testing": ("testing", "deployed", "developing", "disabled", "running", "load_failed"),
    "deployed": ("deployed", "developing", "testing", "disabled", "running", "load_failed"),
    "running": ("running", "deployed", "testing", "disabled"),
    "disabled": ("disabled", "deployed"),
    "load_failed": ("load_failed", "developing", "deployed", "disabled"),
}


def can_change_state(current: str, new: str) -> bool:
    return new in _NEXT_STATES.get(current, ())


class FlowPanelBody(BaseModel):
    """The fields a client sends; what the server decides (flow_category, gmt_*, metadata) is ignored."""

    model_config = ConfigDict(extra="ignore")

    uid: str | None = None
    label: str = Field(min_length=1)
    name: str = Field(min_length=1)
    flow_data: dict[str, Any] | None = None
    description: str | None = None
    state: State = "initializing"
    error_message: str | None = None
    source: str | None = "DBGPT-WEB"
    source_url: str | None = None
    version: str | None = "0.1.1"
    define_type: Literal["json"] | None = "json"
    editable: bool = True
    user_name: str | None = None
    sys_code: str | None = None
    dag_id: str | None = None
    variables: list[dict[str, Any]] | None = None
    authors: list[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _label_from_name(cls, values: Any) -> Any:
        """DB-GPT's rule: without a label, the name is the label, and the name becomes an identifier
        (spaces to "_", prefixed with "<flow_category>_" when a category is sent)."""
        if isinstance(values, dict) and not values.get("label") and values.get("name"):
            values = dict(values)
            values["label"] = values["name"]
            name = str(values["name"]).replace(" ", "_")
            if values.get("flow_category"):
                name = f"{values['flow_category']}_{name}"
            values["name"] = name
        return values

    @field_validator("uid")
    @classmethod
    def _uid_is_uuid(cls, value: str | None) -> str | None:
        # Langflow's API addresses flows by UUID, so both doors can reach every flow.
        if value is None or value == "":
            return None
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise ValueError("uid must be a UUID") from None

    @field_validator("flow_data")
    @classmethod
    def _graph_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value.get("nodes", []), list) or not isinstance(value.get("edges", []), list):
            raise ValueError("flow_data needs lists of nodes and edges")
        return value

    def extras(self) -> dict[str, Any]:
        """What only DB-GPT keeps about a flow (stored beside the Langflow fields)."""
        fields = ("label", "state", "error_message", "source", "source_url", "version", "sys_code", "dag_id",
                  "variables", "authors")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}
