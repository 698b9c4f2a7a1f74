"""Storage: repositories over boto3 for DynamoDB and S3. The only code that spells a table key or an S3 key.

One table (string PK/SK, one GSI named GSI1 on GSI1PK/GSI1SK, TTL attribute `ttl`) and one bucket.
Every record a user owns sits under that user's partition, so a read is scoped by the caller's id by
construction: a flow id alone never reaches another user's data.

Key map (PK | SK | GSI1PK / GSI1SK | what):
- USER#{user_id}      | PROFILE                 | USERS / {created_at}#{user_id}  | a user
- USERNAME#{username} | USERNAME                | -                               | username uniqueness → user_id
- APIKEY#{sha256}     | APIKEY                  | -                               | an API key, by the hash of the key
- USER#{user_id}      | APIKEY#{key_id}         | -                               | the user's index of keys → sha256
- USER#{user_id}      | PROJECT#{project_id}    | -                               | a project (Langflow folder)
- USER#{user_id}      | PROJECTNAME#{name}      | -                               | project-name uniqueness → id
- USER#{user_id}      | FLOW#{flow_id}          | FLOW#{flow_id} / FLOW           | a flow (metadata, data inline
  or in S3)
- USER#{user_id}      | FLOWNAME#{name}         | -                               | flow-name uniqueness → flow_id
- FLOWID#{flow_id}    | FLOWID                  | -                               | a client-chosen flow id
  (DB-GPT's uid), claimed in the flow's create transaction so no two users hold one id
- USER#{user_id}      | ENDPOINT#{endpoint}     | ENDPOINT#{endpoint} / {user_id} | endpoint-name uniqueness → flow_id
- USER#{user_id}      | APP#{app_code}          | -                               | a DB-GPT app (GptsApp): details
  and a dict team_context as JSON text, `version` for optimistic locking (store/apps.py)
- USER#{user_id}#MSGS#{flow_id} | MSG#{session}#{ns}#{message_id} | -             | a chat message (JSON in `body`);
  {session} is percent-encoded so one session's key prefix never matches another's; {ns} orders a session
- USER#{user_id}      | TASK#{task_id}          | -                               | a background run (webhook, upload):
  status PENDING/STARTED/SUCCESS/FAILURE, lease_until + claimed_by (run once), result JSON, `ttl` 30 days
- USER#{user_id}      | JOB#{job_id}            | -                               | a build job (playground): flow_id,
  status QUEUED/RUNNING/DONE/FAILED/CANCELLED, request JSON (or request_key), lease_until + claimed_by, `ttl` 1 day
- USER#{user_id}      | FILE#{file_id}          | -                               | a v2 file: name (as given), path
  "<user_id>/<file_id><ext>", size, content_type, extension, created_at/updated_at (store/file_records.py)
- USER#{user_id}      | FILENAME#{name}         | -                               | v2 file-name uniqueness → file_id;
  FILENAMEHASH#{sha256(name)} when the name would pass the 1 KB sort-key limit
- USER#{user_id}      | FLOWFILE#{flow_id}#{stored_name} | -                      | a v1 file of a flow
  (listed by prefix); stored_name "<timestamp>_<name>" is one path segment of <= 255 bytes; the name as sent
  is kept in `filename`
- USER#{user_id}      | UPLOAD#{file_id}        | -                               | a presigned upload not landed yet:
  the name and content type the file will get, `ttl` 1 day
- JOB#{job_id}        | EVT#{seq:08d}           | -                               | one build event record
  (JSON in `body`, or `body_key` in S3 when large), `ttl` 1 day; readers resume with SK > EVT#{last seen}

The default project's id is derived from the user's id (`default_project_id`), so creating it twice
from two containers writes the same item.

S3 keys (never made from user input):
- flows/{user_id}/{flow_id}/{version}.json   a flow's `data` when the item would pass DynamoDB's 400 KB limit
- runs/{user_id}/{task_id}/body              a webhook body too large for a queue message
- jobs/{job_id}/request.json                 a build request (with a `data` override) too large for the job item
- jobs/{job_id}/events/{seq:08d}.json        a build event too large for its item (runs/ and jobs/ expire in 2 days)
- triggers/{flow_id}/{name}                  uploads that start a flow (written by the stack's operators with their
                                              own AWS credentials; Flowless only reads them)
- files/{user_id}/{sha256(path)}             a stored file; `path` is "<uuid>/<file name>" (validated, never
                                              in the key), kept percent-encoded in the object's `path` metadata
- uploads/{user_id}/{file_id}                 a presigned upload as it lands; the FileUploads function moves it to
                                              files/ and registers it (an EventBridge rule on uploads/);
                                              expires in 1 day
"""

from __future__ import annotations
