"""What every FastAPI function shares: the app factory, error handlers, the auth dependency, routing.

Imports point one way: functions -> http -> wire / store. Nothing here knows a table key.
"""
