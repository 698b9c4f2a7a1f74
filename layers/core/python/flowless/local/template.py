"""Read template.yaml as data: a YAML loader that understands CloudFormation's short-form tags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ApiRoute", "ObjectCreatedRule", "QueueSource", "Template", "load_template"]


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


@dataclass(frozen=True)
class QueueSource:
    """One SQS event source mapping: a queue polled for a function, in batches."""

    function: str                  # logical id, e.g. "ExecutorFunction"
    code_uri: str
    queue: str                     # logical id of the AWS::SQS::Queue
    batch_size: int = 10
    batching_window_s: int = 0
    report_failures: bool = False  # FunctionResponseTypes: [ReportBatchItemFailures]
    max_concurrency: int | None = None
    timeout_s: int = 3


@dataclass(frozen=True)
class ObjectCreatedRule:
    """One EventBridge rule on S3 "Object Created" events of a bucket, targeting a function."""

    function: str
    code_uri: str
    bucket: str                    # logical id of the AWS::S3::Bucket, or a literal bucket name
    key_filters: tuple[tuple[str, str], ...] = ()  # ("prefix", p) or ("equals", key); empty: any key
    timeout_s: int = 3
    max_retries: int = 2           # Lambda retries a failed asynchronous invocation twice by default

    def matches(self, key: str) -> bool:
        if not self.key_filters:
            return True
        return any(key.startswith(v) if kind == "prefix" else key == v for kind, v in self.key_filters)

    @property
    def list_prefix(self) -> str:
        """The longest prefix every wanted key shares, so listing the bucket reads only what may match."""
        values = [v for _, v in self.key_filters]
        if not values:
            return ""
        shared = values[0]
        for value in values[1:]:
            while not value.startswith(shared):
                shared = shared[:-1]
        return shared


def _logical_id(value: Any) -> str | None:
    """`!GetAtt X.Arn` or `!Ref X` -> "X"; anything else (a literal) -> None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        target = value.get("Fn::GetAtt")
        if isinstance(target, str):
            target = target.split(".", 1)
        if isinstance(target, list) and target:
            return str(target[0])
    return None


# Variables the Lambda Web Adapter reads, not the functions.
_ADAPTER_PREFIXES = ("AWS_LWA_", "AWS_LAMBDA_EXEC_WRAPPER")


class Template:
    """The parsed template and what the local stack derives from it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = path.parent
        self.data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader subclass

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

    def function_settings(self) -> dict[str, str]:
        """The settings the functions' own Environment gives them, for the local stack, which runs every function
        in one process: plain values and template parameters with a non-empty default. The Lambda adapter's
        variables are left out, and so is a variable functions disagree on (one process cannot hold both)."""
        parameters = self.data.get("Parameters", {})
        seen: dict[str, str | None] = {}
        for function in self.functions().values():
            variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
            for key, value in variables.items():
                if key.startswith(_ADAPTER_PREFIXES):
                    continue
                if isinstance(value, dict) and set(value) == {"Ref"}:
                    value = (parameters.get(value["Ref"]) or {}).get("Default")
                text = str(value) if isinstance(value, (str, int, float)) and str(value) else None
                seen[key] = text if seen.get(key, text) == text else None
        return {key: value for key, value in seen.items() if value is not None}

    def function_timeout(self, name: str) -> int:
        props = self.functions().get(name, {}).get("Properties", {})
        return int(props.get("Timeout") or self.data.get("Globals", {}).get("Function", {}).get("Timeout") or 3)

    def _events(self, kind: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """(function, function properties, event properties) of every enabled event of one type."""
        found = []
        for name, fn in self.functions().items():
            props = fn.get("Properties", {})
            for event in (props.get("Events") or {}).values():
                ep = event.get("Properties", {}) or {}
                if event.get("Type") == kind and ep.get("Enabled", True) not in (False, "false"):
                    found.append((name, props, ep))
        return found

    def queue_sources(self) -> list[QueueSource]:
        """Every `Type: SQS` event whose queue is a resource of this template."""
        sources = []
        for name, props, ep in self._events("SQS"):
            queue = _logical_id(ep.get("Queue"))
            if queue is None:
                continue
            scaling = ep.get("ScalingConfig") or {}
            sources.append(QueueSource(
                function=name, code_uri=props.get("CodeUri", ""), queue=queue,
                batch_size=int(ep.get("BatchSize", 10)),
                batching_window_s=int(ep.get("MaximumBatchingWindowInSeconds", 0)),
                report_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                max_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
                timeout_s=self.function_timeout(name),
            ))
        return sources

    def object_created_rules(self) -> list[ObjectCreatedRule]:
        """Every `Type: EventBridgeRule` event matching S3 "Object Created" events of one bucket."""
        rules = []
        for name, props, ep in self._events("EventBridgeRule"):
            pattern = ep.get("Pattern") or {}
            detail = pattern.get("detail") or {}
            buckets = (detail.get("bucket") or {}).get("name") or []
            is_s3_created = ("aws.s3" in (pattern.get("source") or [])
                             and "Object Created" in (pattern.get("detail-type") or []))
            if not is_s3_created or len(buckets) != 1:
                continue
            filters: list[tuple[str, str]] = []
            for item in (detail.get("object") or {}).get("key") or []:
                if isinstance(item, str):
                    filters.append(("equals", item))
                elif isinstance(item, dict) and "prefix" in item:
                    filters.append(("prefix", str(item["prefix"])))
            retries = (props.get("EventInvokeConfig") or {}).get("MaximumRetryAttempts", 2)
            rules.append(ObjectCreatedRule(
                function=name, code_uri=props.get("CodeUri", ""), bucket=_logical_id(buckets[0]) or str(buckets[0]),
                key_filters=tuple(filters), timeout_s=self.function_timeout(name), max_retries=int(retries),
            ))
        return rules


def load_template(path: Path | str) -> Template:
    return Template(Path(path))
