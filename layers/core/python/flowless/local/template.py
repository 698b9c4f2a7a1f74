"""Read template.yaml as data: a YAML loader that understands CloudFormation's short-form tags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ApiRoute", "Template", "load_template"]


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus `!Ref x` -> {"Ref": x} and `!Sub`, `!GetAtt a.b`, ... -> {"Fn::Sub": ...}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class ApiRoute:
    """One Api event: a method and path served by a function."""

    function: str          # logical id, e.g. "FlowsFunction"
    code_uri: str          # e.g. "functions/flows/"
    method: str            # upper case
    path: str              # API Gateway form, e.g. "/api/v1/flows/{flow_id}"
    streaming: bool = False


class Template:
    """The parsed template and what the local stack derives from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        self.data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.data.get("Resources", {}))

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.resources.items() if r.get("Type") == kind}

    def functions(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::Serverless::Function")

    def api_routes(self) -> list[ApiRoute]:
        routes = []
        for name, fn in self.functions().items():
            props = fn.get("Properties", {})
            for event in (props.get("Events") or {}).values():
                if event.get("Type") != "Api":
                    continue
                ep = event.get("Properties", {})
                routes.append(ApiRoute(
                    function=name, code_uri=props.get("CodeUri", ""), method=str(ep["Method"]).upper(),
                    path=ep["Path"], streaming=ep.get("ResponseTransferMode") == "RESPONSE_STREAM",
                ))
        return routes


def load_template(path: Path | str) -> Template:
    return Template(Path(path))
