"""Native implementations of Langflow components, chosen by a node's `data.type`.

A node's embedded Python `code` is never executed: each supported type has its own code here, grouped
like Langflow's categories. `registry.default_registry()` is what runs use and /api/v1/all lists.
"""
