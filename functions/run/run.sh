#!/bin/bash
# Lambda Web Adapter bootstrap: the adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs this as the handler and
# forwards each invocation to uvicorn as plain HTTP, streaming the response back (AWS_LWA_INVOKE_MODE).
# /opt/python holds the flowless package and its dependencies (the layers).
PYTHONPATH="$LAMBDA_TASK_ROOT:/opt/python:$PYTHONPATH" exec python3 -m uvicorn app:app \
  --host 127.0.0.1 --port "${AWS_LWA_PORT:-8000}" --no-access-log --timeout-keep-alive 900
