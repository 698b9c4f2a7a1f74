"""`flowless`: the local stack and admin commands.

    flowless dev [--host 127.0.0.1] [--port 7860] [--aws-port 4566] [--retry-delay 1]
    flowless api-key create --user NAME [--create-user] [--superuser] [--dev [--aws-port 4566]]
    flowless run FLOW.json --input "..." [--tweaks JSON] [--input-type chat] [--output-type chat]

`api-key create` talks to the stack the environment names (FLOWLESS_TABLE_NAME and the usual AWS
variables, e.g. from `sam list stack-outputs`), or with --dev to a running `flowless dev`.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]

DEFAULT_AWS_PORT = 4566


def _model_names() -> str:
    """The configured models (FLOWLESS_MODELS), or how to configure some."""
    from flowless.model_catalog import configured_models

    try:
        names = list(configured_models())
    except ValueError as exc:
        return f"FLOWLESS_MODELS is invalid: {exc}"
    return ", ".join(names) if names else "none (set FLOWLESS_MODELS to name models for DB-GPT's chat)"


def _dev(args: argparse.Namespace) -> int:
    import uvicorn

    from flowless.local.stack import LocalStack, find_template

    stack = LocalStack(find_template(), host=args.host, aws_port=args.aws_port, auto_login=not args.no_auto_login,
                       retry_delay_s=args.retry_delay)
    stack.start_aws()
    _register_superuser()
    workers = stack.start_workers()
    base = f"http://{args.host}:{args.port}"
    print(f"Flowless local stack\n  API      {base}\n  Docs     {base}/docs\n"
          f"  AWS      {stack.aws_endpoint} (embedded; table {os.environ.get('FLOWLESS_TABLE_NAME')})\n"
          "  Auth     "
          f"{'auto-login as the superuser when no key is sent' if not args.no_auto_login else 'API key required'}\n"
          f"  New key  uv run flowless api-key create --user {_superuser_name()} --dev --aws-port {stack.aws_port}\n"
          f"  DB-GPT   {base}/api/v2 (dbgpt-client api_base); OpenAI-compatible models at {base}/api/v1\n"
          f"  Models   {_model_names()}",
          flush=True)
    for line in workers:
        print(f"  Worker   {line}", flush=True)
    try:
        uvicorn.run(stack.gateway(), host=args.host, port=args.port, log_level="info", lifespan="off")
    finally:
        stack.stop_workers()
        stack.stop_aws()
    return 0


def _superuser_name() -> str:
    from flowless.settings import get_settings

    return get_settings().superuser


def _register_superuser() -> None:
    """The superuser exists and the bootstrap key (if any) is registered before the first request."""
    from flowless.settings import get_settings
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    settings = get_settings()
    user = UserRepository().ensure_superuser(settings.superuser)
    if settings.bootstrap_api_key is not None:
        ApiKeyRepository().register(user_id=user.id, key=settings.bootstrap_api_key.get_secret_value(),
                                    name="bootstrap")


def _point_at_dev_stack(aws_port: int) -> None:
    from flowless.local.resources import table_environment
    from flowless.local.stack import RESOURCE_PREFIX, find_template
    from flowless.local.template import load_template

    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{aws_port}"
    for key, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(key, value)
    os.environ.update(table_environment(load_template(find_template()), prefix=RESOURCE_PREFIX))


def _api_key_create(args: argparse.Namespace) -> int:
    from flowless.errors import DuplicateError
    from flowless.settings import get_settings
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    if args.dev:
        _point_at_dev_stack(args.aws_port)
    users = UserRepository()
    user = users.find_by_username(args.user)
    if user is None and args.user == get_settings().superuser:
        user = users.ensure_superuser(args.user)
    if user is None:
        if not args.create_user:
            print(f"error: no user named {args.user!r} (pass --create-user to create one)", file=sys.stderr)
            return 2
        try:
            # No password: this user signs in with API keys only.
            user = users.create(username=args.user, password=None, is_superuser=args.superuser)
        except DuplicateError:
            user = users.find_by_username(args.user)
            assert user is not None
    record, key = ApiKeyRepository().create(user_id=user.id, name=args.name)
    print(f"Created API key {record.id} ({args.name}) for {user.username}. It is shown only once:", file=sys.stderr)
    print(key)
    return 0


class _LocalFiles:
    """Files a locally run flow reads: paths on this machine (the person running it chose them)."""

    def read(self, path: str) -> tuple[str, bytes]:
        from pathlib import Path

        file = Path(path).expanduser()
        return file.name, file.read_bytes()


def _run(args: argparse.Namespace) -> int:
    """Run a flow export in this process, without a server or storage, like `lfx run`."""
    import asyncio
    import json
    from pathlib import Path

    from flowless.components.registry import default_registry
    from flowless.engine.context import RunContext, Services
    from flowless.engine.graph import parse_graph
    from flowless.engine.outputs import select_outputs
    from flowless.engine.run import RunRequest, prepare_graph, run_events
    from flowless.engine.types import text_of
    from flowless.errors import FlowlessError

    try:
        export = json.loads(Path(args.flow).read_text())
        tweaks = json.loads(args.tweaks) if args.tweaks else None
        registry = default_registry()
        graph = parse_graph(export, registry, flow_id=str(export.get("id") or ""),
                            flow_name=str(export.get("name") or ""))
        request = RunRequest(input_value=args.input, input_type=args.input_type, output_type=args.output_type,
                             tweaks=tweaks, session_id=args.session_id)
        session_id = prepare_graph(graph, request, stream=False)
    except (OSError, json.JSONDecodeError, FlowlessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # A local run may call a model server on this machine (Ollama, vLLM); metadata addresses stay refused.
    services = Services(variables=lambda name: os.environ.get(name), files=_LocalFiles(), allow_private_network=True)
    ctx = RunContext(flow_id=graph.flow_id, session_id=session_id, flow_name=graph.flow_name, services=services)

    async def execute() -> tuple[object | None, str | None]:
        async for event in run_events(graph, registry=registry, ctx=ctx, request=request):
            if event.kind == "end_vertex":
                vertex = event.data["vertex"]
                print(f"  built {vertex.display_name} ({vertex.id}) in {vertex.timedelta * 1000:.1f} ms",
                      file=sys.stderr)
            elif event.kind == "end":
                return event.data["result"], None
            elif event.kind == "error":
                return None, str(event.data["error"])
        return None, "the run ended without a result"

    result, error = asyncio.run(execute())
    if error is not None or result is None:
        print(json.dumps({"result": None, "success": False, "error": error, "logs": ""}))
        return 1
    chosen = select_outputs(graph, result, output_type=args.output_type)  # type: ignore[arg-type]
    last = chosen[-1] if chosen else None
    value = next(iter(last.results.values()), None) if last else None
    print(json.dumps({"result": text_of(value), "type": "message" if last else "none",
                      "component": last.display_name if last else None, "component_id": last.id if last else None,
                      "success": True, "logs": ""}, ensure_ascii=False))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowless", description="Serve Langflow and DB-GPT flows on AWS Lambda.")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev", help="run the local stack: embedded AWS, resources, API gateway and event workers")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=7860)
    dev.add_argument("--aws-port", type=int, default=DEFAULT_AWS_PORT, help="port of the embedded AWS endpoint")
    dev.add_argument("--no-auto-login", action="store_true", help="require an API key on every request")
    dev.add_argument("--retry-delay", type=float, default=1.0, metavar="SECONDS",
                     help="how soon a failed queue message or upload event is retried (AWS waits the queue's "
                          "visibility timeout)")
    dev.set_defaults(func=_dev)

    api_key = commands.add_parser("api-key", help="manage API keys")
    api_key_commands = api_key.add_subparsers(dest="api_key_command", required=True)
    create = api_key_commands.add_parser("create", help="mint an API key for a user and print it")
    create.add_argument("--user", required=True, help="the username the key acts as")
    create.add_argument("--name", default="cli", help="a label for the key")
    create.add_argument("--create-user", action="store_true", help="create the user if it does not exist")
    create.add_argument("--superuser", action="store_true", help="with --create-user: make the user a superuser")
    create.add_argument("--dev", action="store_true", help="use the running `flowless dev` stack")
    create.add_argument("--aws-port", type=int, default=DEFAULT_AWS_PORT, help="with --dev: its --aws-port")
    create.set_defaults(func=_api_key_create)

    run = commands.add_parser("run", help="run a flow export here, without a server, and print its result")
    run.add_argument("flow", help="a Langflow flow export (JSON)")
    run.add_argument("--input", default=None, help="the input value")
    run.add_argument("--tweaks", default=None,
                     help="tweaks as JSON, e.g. '{\"Chat Input\": {\"sender_name\": \"Ada\"}}'")
    run.add_argument("--input-type", default="chat", choices=("chat", "text", "any"))
    run.add_argument("--output-type", default="chat", choices=("chat", "text", "any", "debug"))
    run.add_argument("--session-id", default=None)
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
