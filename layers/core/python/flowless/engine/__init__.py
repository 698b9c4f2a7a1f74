"""The flow engine: parse a Langflow graph, plan it, run it as an async stream of events.

Knows nothing of HTTP, AWS or wire formats: it is handed its component registry and its services
(message history, variables, files, HTTP fetching, LLM providers), so it runs with no AWS at all.
"""
