"""Drive Flowless with the real dbgpt-client package, as a DB-GPT user's script would.

Runs in its own virtualenv (dbgpt-client pins libraries the project does not use), so it imports nothing from
the project. Usage: python dbgpt_client_scenario.py BASE_URL API_KEY LANGFLOW_FLOW_ID APP_CODE REPORT_FILE
Writes one JSON line per step ({"step": ..., ...}) to REPORT_FILE, not stdout, because dbgpt prints to stdout
on import under CI; any client exception fails the run.
"""

from __future__ import annotations

import asyncio
import json
import sys

from dbgpt.core.awel.flow.flow_factory import FlowPanel, State
from dbgpt_client import Client
from dbgpt_client.app import get_app, list_app
from dbgpt_client.flow import create_flow, delete_flow, get_flow, list_flow, run_flow_cmd, update_flow

SEP = "___$$___"
BODY = "dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpRequestBody"
OUTPUT = "dbgpt.core.interface.llm.ModelOutput"


def io(name: str, type_cls: str, is_list: bool = False) -> dict:
    return {"label": name, "name": name, "description": name, "is_list": is_list,
            "type_name": type_cls.rsplit(".", 1)[-1], "type_cls": type_cls}


def operator(name: str, category: str, operator_type: str, inputs: list, outputs: list, x: int) -> dict:
    node_id = f"operator_{name}{SEP}{category}{SEP}v1_0"
    position = {"x": x, "y": 0, "zoom": 0}
    return {"id": node_id, "type": "customNode", "width": 320, "height": 300, "position": position,
            "position_absolute": position,
            "data": {"id": node_id, "flow_type": "operator", "name": name, "label": name, "description": name,
                     "category": category, "operator_type": operator_type, "version": "v1", "inputs": inputs,
                     "outputs": outputs, "parameters": []}}


def edge(source: str, target: str) -> dict:
    return {"id": f"{source}|{target}", "source": source, "target": target, "source_order": 0, "target_order": 0,
            "source_handle": f"{source}|outputs|0", "target_handle": f"{target}|inputs|0", "type": "buttonedge"}


def simple_chat_flow_data() -> dict:
    """DB-GPT's simple streaming chat flow: HTTP trigger -> streaming LLM -> OpenAI-style SSE output."""
    nodes = [
        operator("common_llm_http_trigger", "trigger", "input", [], [io("request_body", BODY)], 0),
        operator("higher_order_streaming_llm_operator", "llm", "map", [io("common_llm_request_body", BODY)],
                 [io("streaming_model_output", OUTPUT)], 400),
        operator("openai_streaming_output_operator", "output_parser", "transform_stream",
                 [io("model_output", OUTPUT, True)], [io("model_output", "builtins.str", True)], 800),
    ]
    return {"nodes": nodes, "edges": [edge(nodes[0]["id"], nodes[1]["id"]), edge(nodes[1]["id"], nodes[2]["id"])],
            "viewport": {"x": 0, "y": 0, "zoom": 1}}


REPORT_FILE = ""   # set from the command line


def report(step: str, **values: object) -> None:
    with open(REPORT_FILE, "a", encoding="utf-8") as out:
        out.write(json.dumps({"step": step, **values}, default=str) + "\n")


async def stream_text(client: Client, **kwargs: object) -> str:
    text = ""
    async for chunk in client.chat_stream(**kwargs):
        if isinstance(chunk, dict):            # the client yields the error body of a non-200 answer
            raise RuntimeError(f"chat_stream failed: {chunk}")
        for choice in chunk.choices:
            text += choice.delta.content or ""
    return text


async def main(base_url: str, api_key: str, langflow_flow_id: str, app_code: str) -> None:
    client = Client(api_base=f"{base_url}/api/v2", api_key=api_key)
    try:
        # Flows CRUD with a DB-GPT graph.
        panel = FlowPanel(label="Acceptance Flow", name="acceptance_flow", description="v1", state="deployed",
                          flow_data=simple_chat_flow_data())
        created = await create_flow(client, panel)
        report("create_flow", uid=created.uid, state=created.state.value, sent_uid=panel.uid,
               nodes=len(created.flow_data.nodes))
        created.description = "v2"
        created.state = State.DEPLOYED
        updated = await update_flow(client, created)
        report("update_flow", description=updated.description, state=updated.state.value)
        fetched = await get_flow(client, created.uid)
        report("get_flow", uid=fetched.uid, description=fetched.description, category=fetched.flow_category.value)
        report("list_flow", uids=[f.uid for f in await list_flow(client, name="acceptance_flow")])

        # chat_flow against the DB-GPT graph, streamed and whole.
        report("chat_stream_awel", text=await stream_text(client, model="gpt-test", messages="Introduce AWEL",
                                                          chat_mode="chat_flow", chat_param=created.uid))
        whole = await client.chat(model="gpt-test", messages="Introduce AWEL", chat_mode="chat_flow",
                                  chat_param=created.uid)
        report("chat_awel", text=whole.choices[0].message.content, usage=whole.usage.total_tokens)

        # The flow's HTTP trigger, found by name through its metadata, as `dbgpt run flow cmd` calls it.
        streamed: list[str] = []
        await run_flow_cmd(client, name="acceptance_flow", streaming_callback=streamed.append,
                           data={"model": "gpt-test", "messages": "Run by trigger", "stream": True})
        report("run_flow_cmd", text="".join(streamed), metadata=fetched.metadata.to_dict())

        # A flow made in Langflow: listed, read and updated through this door, and chatted with.
        mine = await list_flow(client, uid=langflow_flow_id)
        langflow_flow = await get_flow(client, langflow_flow_id)
        report("langflow_flow", listed=[f.uid for f in mine], name=langflow_flow.name,
               nodes=len(langflow_flow.flow_data.nodes) if langflow_flow.flow_data else None)
        langflow_flow.description = "described by DB-GPT"
        langflow_flow.state = State.RUNNING
        report("langflow_update", description=(await update_flow(client, langflow_flow)).description)
        report("chat_stream_langflow", text=await stream_text(client, model="gpt-test", messages="ping",
                                                              chat_mode="chat_flow", chat_param=langflow_flow_id))
        whole = await client.chat(model="gpt-test", messages="pong", chat_mode="chat_flow",
                                  chat_param=langflow_flow_id)
        report("chat_langflow", text=whole.choices[0].message.content)

        # Apps and chat_app.
        app = await get_app(client, app_code)
        report("get_app", app_code=app.app_code, app_name=app.app_name, team_mode=app.team_mode,
               details=len(app.details))
        report("list_app", app_codes=[a.app_code for a in await list_app(client)])
        report("chat_stream_app", text=await stream_text(client, model="gpt-test", messages="hello app",
                                                         chat_mode="chat_app", chat_param=app_code))

        # chat_normal: the configured model.
        whole = await client.chat(model="gpt-test", messages="hello model")
        report("chat_normal", text=whole.choices[0].message.content)
        report("chat_stream_normal", text=await stream_text(client, model="gpt-test", messages="hello model"))

        deleted = await delete_flow(client, created.uid)
        report("delete_flow", uid=deleted.uid, remaining=[f.uid for f in await list_flow(client,
                                                                                         name="acceptance_flow")])
    finally:
        await client.aclose()


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    REPORT_FILE = sys.argv[5]
    asyncio.run(main(*sys.argv[1:5]))
