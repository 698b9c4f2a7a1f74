"""Langflow's flows and projects API as operations on the store: what the routes call.

Each function takes the caller's user id and wire models, and returns wire models or plain data.
"""
