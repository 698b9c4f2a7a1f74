"""DB-GPT's doors over the one flow store and the one engine: AWEL flows, apps and chat completions."""
