"""Create the template's table, bucket and queues on whatever endpoint boto3 points at (moto).

Properties are taken from template.yaml itself, so the local stack and the tests can never drift from
what `sam deploy` creates. `create_resources` returns the environment variables that name the created
resources; `create_stack_resources` also returns each resource's physical name (and each queue's ARN), which
the local event workers need to find the queues and buckets the template's events refer to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowless.local.template import Template

__all__ = ["CreatedResources", "create_resources", "create_stack_resources", "physical_name", "table_environment"]


def physical_name(prefix: str, logical_id: str) -> str:
    """The name a resource gets locally: predictable, so other processes can find it."""
    return f"{prefix}-{logical_id.lower()}"


def table_environment(template: Template, *, prefix: str) -> dict[str, str]:
    """The FLOWLESS_* variables naming the template's tables, without creating anything."""
    names = {logical: physical_name(prefix, logical) for logical in template.of_type("AWS::DynamoDB::Table")}
    return _environment(template, names)


def _table_args(name: str, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


@dataclass(frozen=True)
class CreatedResources:
    """What `create_stack_resources` made, by logical id."""

    environment: dict[str, str]                          # FLOWLESS_* variables, as the functions read them
    names: dict[str, str] = field(default_factory=dict)  # table name, bucket name or queue URL
    arns: dict[str, str] = field(default_factory=dict)   # queue ARNs


def create_resources(template: Template, *, prefix: str = "flowless", session: Any = None) -> dict[str, str]:
    """Create every DynamoDB table, S3 bucket and SQS queue of the template; return FLOWLESS_* names."""
    return create_stack_resources(template, prefix=prefix, session=session).environment


def create_stack_resources(template: Template, *, prefix: str = "flowless", session: Any = None) -> CreatedResources:
    """Create every DynamoDB table, S3 bucket and SQS queue of the template; return what was created."""
    import boto3

    session = session or boto3.session.Session()
    ddb, s3, sqs = session.client("dynamodb"), session.client("s3"), session.client("sqs")
    names: dict[str, str] = {}      # logical id -> physical name/url
    arns: dict[str, str] = {}
    for logical, res in template.of_type("AWS::DynamoDB::Table").items():
        props = res.get("Properties", {})
        name = physical_name(prefix, logical)
        ddb.create_table(**_table_args(name, props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        names[logical] = name
    for logical, _res in template.of_type("AWS::S3::Bucket").items():
        name = physical_name(prefix, logical)
        s3.create_bucket(Bucket=name)
        names[logical] = name
    # Dead-letter queues first: a queue's RedrivePolicy names its DLQ by ARN.
    queues = template.of_type("AWS::SQS::Queue")
    ordered = sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for logical, res in ordered:
        props = res.get("Properties", {})
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]
            dlq = target["Fn::GetAtt"][0] if isinstance(target, dict) else target
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arns[dlq],
                                                      "maxReceiveCount": int(redrive["maxReceiveCount"])})
        url = sqs.create_queue(QueueName=physical_name(prefix, logical), Attributes=attributes)["QueueUrl"]
        names[logical] = url
        arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return CreatedResources(environment=_environment(template, names), names=names, arns=arns)


def _environment(template: Template, names: dict[str, str]) -> dict[str, str]:
    """The Globals environment with each `!Ref Resource` replaced by the created name."""
    variables = template.data.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    env: dict[str, str] = {}
    for key, value in variables.items():
        if isinstance(value, dict) and "Ref" in value and value["Ref"] in names:
            env[key] = names[value["Ref"]]
    return env
