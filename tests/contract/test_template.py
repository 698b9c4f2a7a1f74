"""template.yaml is the contract with AWS: it must translate and lint cleanly, route exactly what each
function's app serves, and keep the resource settings the code relies on."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from flowless.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTION_TYPE = "AWS::Serverless::Function"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


class _FakePolicyLoader:
    """Stands in for the IAM lookup the translator makes for managed policy names (no AWS call)."""

    def load(self) -> dict[str, str]:
        names = ["AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSLambdaSQSQueueExecutionRole"]
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in names}


def _with_s3_code_locations(data: dict[str, Any]) -> dict[str, Any]:
    """The template with local code paths swapped for S3 URIs, as `sam package` would leave it:
    the translator only accepts S3 locations."""
    data = copy.deepcopy(data)
    for name, resource in data["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://placeholder-bucket/{name}.zip"
    return data


@cache
def _translated() -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    loader: Any = _FakePolicyLoader()
    return transform(_with_s3_code_locations(TEMPLATE.data), {}, loader)


def test_template_translates() -> None:
    resources = _translated()["Resources"]
    assert any(r["Type"] == "AWS::Lambda::Function" for r in resources.values())
    assert any(r["Type"] == "AWS::ApiGateway::RestApi" for r in resources.values())


def test_translated_template_has_no_lint_errors() -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(_translated()), config=ManualArgs(regions=["us-east-1"]))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    for warning in (m for m in matches if m not in errors):
        print(f"cfn-lint warning: {warning}")
    assert not errors, "cfn-lint errors:\n" + "\n".join(str(m) for m in errors)


# ---- routes: the template's Api events against what each app actually serves -------------------------

def _function_groups() -> dict[str, str]:
    """Function logical id -> group, for every function whose code is functions/<group>/."""
    groups = {}
    for name, fn in TEMPLATE.functions().items():
        match = re.fullmatch(r"functions/([^/]+)/?", str(fn["Properties"].get("CodeUri", "")))
        if match:
            groups[name] = match.group(1)
    return groups


def _import_app(group: str) -> Any:
    """functions/<group>/app.py under a module name of its own, so every app.py loads separately."""
    from flowless.local.events import load_function

    return load_function(ROOT / "functions" / group / "app.py", f"contract_app_{group}")


def _served_routes(routes: list[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(METHOD, path) pairs, walking into included routers (FastAPI wraps them instead of copying routes)."""
    served: set[tuple[str, str]] = set()
    for route in routes:
        if hasattr(route, "routes"):
            served |= _served_routes(route.routes, prefix)
        elif getattr(route, "original_router", None) is not None:
            inner_prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            served |= _served_routes(route.original_router.routes, prefix + inner_prefix)
        elif getattr(route, "methods", None):
            # Our Router serves each path with and without the trailing slash; API Gateway lists it once.
            path = (prefix + route.path).rstrip("/") or "/"
            path = re.sub(r"\{(\w+):path\}", r"{\1+}", path)   # FastAPI's greedy parameter is API Gateway's {name+}
            served |= {(m.upper(), path) for m in route.methods if m.upper() not in IGNORED_METHODS}
    return served


@pytest.mark.parametrize(("function", "group"), sorted(_function_groups().items()))
def test_api_events_match_app_routes(function: str, group: str) -> None:
    events = [r for r in TEMPLATE.api_routes() if r.function == function]
    declared = {(r.method, r.path.rstrip("/") or "/") for r in events}
    module = _import_app(group)
    if not hasattr(module, "app"):
        # An event-driven function (SQS, EventBridge) serves no HTTP route and must have no Api event.
        assert not declared, f"{function} has Api events but no FastAPI app"
        return
    served = _served_routes(module.app.router.routes)
    missing_in_template = sorted(served - declared)
    missing_in_app = sorted(declared - served)
    assert not missing_in_template and not missing_in_app, (
        f"{function} (functions/{group}/app.py) and its Api events differ:\n"
        f"  served by the app but not routed by API Gateway: {missing_in_template}\n"
        f"  routed by API Gateway but not served by the app: {missing_in_app}"
    )


def test_every_function_is_checked() -> None:
    unchecked = set(TEMPLATE.functions()) - set(_function_groups())
    assert not unchecked, f"CodeUri is not functions/<group>/, routes unchecked: {sorted(unchecked)}"


# ---- resources -------------------------------------------------------------------------------------

def _global_ref(variable: str) -> str:
    """The logical id a Globals environment variable points at; the code finds its resources this way."""
    value = TEMPLATE.data["Globals"]["Function"]["Environment"]["Variables"][variable]
    assert isinstance(value, dict) and "Ref" in value, f"{variable} is not a !Ref"
    return value["Ref"]


def test_one_regional_api() -> None:
    apis = TEMPLATE.of_type("AWS::Serverless::Api")
    assert len(apis) == 1
    (api,) = apis.values()
    assert api["Properties"]["EndpointConfiguration"]["Type"] == "REGIONAL"


def test_table_keys_index_and_ttl() -> None:
    tables = TEMPLATE.of_type("AWS::DynamoDB::Table")
    assert list(tables) == [_global_ref("FLOWLESS_TABLE_NAME")]
    props = next(iter(tables.values()))["Properties"]
    keys = {k["KeyType"]: k["AttributeName"] for k in props["KeySchema"]}
    assert keys == {"HASH": "PK", "RANGE": "SK"}
    assert len(props.get("GlobalSecondaryIndexes", [])) >= 1
    assert props["TimeToLiveSpecification"]["Enabled"] is True


def test_bucket_sends_events_to_eventbridge() -> None:
    bucket = TEMPLATE.resources[_global_ref("FLOWLESS_BUCKET_NAME")]
    assert bucket["Type"] == "AWS::S3::Bucket"
    config = bucket["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"]
    assert config["EventBridgeEnabled"] is True


def test_run_queue_has_dead_letter_queue() -> None:
    queue = TEMPLATE.resources[_global_ref("FLOWLESS_RUN_QUEUE_URL")]
    assert queue["Type"] == "AWS::SQS::Queue"
    redrive = queue["Properties"]["RedrivePolicy"]
    target = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
    assert target[1] == "Arn" and TEMPLATE.resources[target[0]]["Type"] == "AWS::SQS::Queue"
    assert redrive["maxReceiveCount"] >= 1


def test_functions_run_python313_on_arm64() -> None:
    # The layers are built for exactly this runtime and architecture.
    defaults = TEMPLATE.data["Globals"]["Function"]
    assert (defaults["Runtime"], defaults["Architectures"]) == ("python3.13", ["arm64"])
    # Checked again after translation, where Globals are merged, so a per-function override shows up.
    resources = _translated()["Resources"]
    actual = {name: (r["Properties"].get("Runtime"), r["Properties"].get("Architectures"))
              for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    assert set(actual) == set(TEMPLATE.functions())
    wrong = {n: platform for n, platform in actual.items() if platform != ("python3.13", ["arm64"])}
    assert not wrong, f"functions not on python3.13/arm64: {wrong}"


def test_parameters_and_outputs() -> None:
    assert {"AutoLogin", "BootstrapApiKey"} <= set(TEMPLATE.data["Parameters"])
    assert "ApiUrl" in TEMPLATE.data["Outputs"]


# ---- deps layer ------------------------------------------------------------------------------------

def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_deps_layer_requirements_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # The Lambda runtime ships boto3 and botocore; the layer must not carry its own copy.
    expected = sorted(r.strip() for r in project["dependencies"] if _name(r) not in {"boto3", "botocore"})
    lines = (ROOT / "layers" / "deps" / "requirements.txt").read_text().splitlines()
    actual = sorted(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))
    assert actual == expected, (
        f"layers/deps/requirements.txt differs from pyproject's dependencies minus boto3:\n"
        f"  missing: {sorted(set(expected) - set(actual))}\n  extra: {sorted(set(actual) - set(expected))}"
    )


def _events_of_type(kind: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(function, its properties, the event's properties) for every event of `kind`."""
    found = []
    for name, fn in TEMPLATE.functions().items():
        props = fn["Properties"]
        for event in (props.get("Events") or {}).values():
            if event.get("Type") == kind:
                found.append((name, props, event["Properties"]))
    return found


def test_run_queue_feeds_the_executor_in_batches_with_partial_failures() -> None:
    run_queue = _global_ref("FLOWLESS_RUN_QUEUE_URL")
    consumers = [(fn, props, ev) for fn, props, ev in _events_of_type("SQS")
                 if ev["Queue"] == {"Fn::GetAtt": [run_queue, "Arn"]}]
    assert len(consumers) == 1, consumers
    _, props, event = consumers[0]
    assert event["BatchSize"] > 1
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = TEMPLATE.resources[run_queue]["Properties"]
    timeout = props.get("Timeout") or TEMPLATE.data["Globals"]["Function"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout


def test_dead_letters_have_a_consumer() -> None:
    run_queue = _global_ref("FLOWLESS_RUN_QUEUE_URL")
    dlq = TEMPLATE.resources[run_queue]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert any(ev["Queue"] == {"Fn::GetAtt": [dlq, "Arn"]} for _, _, ev in _events_of_type("SQS"))


def test_uploads_reach_a_function_through_an_eventbridge_rule_on_triggers() -> None:
    rules = [r for r in _events_of_type("EventBridgeRule")
             if r[2]["Pattern"]["detail"]["object"]["key"] == [{"prefix": "triggers/"}]]
    assert rules, "no function handles uploads"
    pattern = rules[0][2]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "triggers/"}]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": _global_ref("FLOWLESS_BUCKET_NAME")}]


def test_streaming_routes_really_stream() -> None:
    """RESPONSE_STREAM on a route must become a STREAM integration on the response-streaming URI: a wrong value
    passes `sam validate` and silently buffers (the translator only recognises the exact SAM value)."""
    streaming = [r for r in TEMPLATE.api_routes() if r.streaming]
    assert {(r.method, r.path) for r in streaming} >= {("POST", "/api/v1/run/{flow_id_or_name}")}
    apis = [r for r in _translated()["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    paths = apis[0]["Properties"]["Body"]["paths"]
    for route in TEMPLATE.api_routes():
        integration = paths[route.path][route.method.lower()]["x-amazon-apigateway-integration"]
        uri = json.dumps(integration["uri"])
        if route.streaming:
            assert integration.get("responseTransferMode") == "STREAM", route
            assert "response-streaming-invocations" in uri, route
            assert integration.get("timeoutInMillis") == 900000, route
        else:
            assert "responseTransferMode" not in integration and "response-streaming-invocations" not in uri


def test_every_route_of_a_streaming_function_streams() -> None:
    """Under the adapter's response_stream mode every answer is a stream, so a buffered route would break."""
    by_function: dict[str, set[bool]] = {}
    for route in TEMPLATE.api_routes():
        by_function.setdefault(route.function, set()).add(route.streaming)
    for function, modes in by_function.items():
        env = TEMPLATE.functions()[function]["Properties"].get("Environment", {}).get("Variables", {})
        if env.get("AWS_LWA_INVOKE_MODE") == "response_stream":
            assert modes == {True}, function
        else:
            assert modes == {False}, function
