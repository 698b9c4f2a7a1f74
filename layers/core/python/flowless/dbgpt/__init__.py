"""DB-GPT's doors over the one flow store and the one engine: AWEL flows, apps and chat completions."""

# DB-GPT runs a flow only once it is deployed (it is then "running"); a flow made in Langflow always runs.
RUNNABLE_STATES = ("running", "deployed")
