"""FileRepository against moto: round trips, scoping by user, and paths that never become S3 keys."""

from __future__ import annotations

import hashlib
import re

import pytest

from flowless.errors import InvalidInputError, NotFoundError
from flowless.store.files import FileRepository, UserFiles, validate_path

FOLDER = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PATH = f"{FOLDER}/2024-12-30_15-19-43_notes.txt"


def test_a_stored_file_reads_back_byte_identical(aws):
    repo = FileRepository()
    content = "héllo\nwörld\n".encode() + bytes(range(256))
    repo.put(user_id="u1", path=PATH, content=content, content_type="text/plain")
    assert repo.get(user_id="u1", path=PATH) == content
    assert repo.exists(user_id="u1", path=PATH)


def test_put_replaces_the_file_at_the_same_path(aws):
    repo = FileRepository()
    repo.put(user_id="u1", path=PATH, content=b"one")
    repo.put(user_id="u1", path=PATH, content=b"two")
    assert repo.get(user_id="u1", path=PATH) == b"two"


def test_the_key_is_the_owner_and_a_hash_and_the_path_lives_in_metadata(aws):
    repo = FileRepository()
    path = f"{FOLDER}/résumé (1).md"
    repo.put(user_id="u1", path=path, content=b"# cv")
    key = f"files/u1/{hashlib.sha256(path.encode()).hexdigest()}"
    assert repo.key(user_id="u1", path=path) == key
    head = repo.s3.head_object(Bucket=repo.bucket, Key=key)
    assert head["Metadata"]["path"] == f"{FOLDER}/r%C3%A9sum%C3%A9%20%281%29.md"
    assert head["ContentType"] == "application/octet-stream"


def test_another_users_file_is_not_found(aws):
    repo = FileRepository()
    repo.put(user_id="u1", path=PATH, content=b"secret")
    with pytest.raises(NotFoundError, match=re.escape("File not found: 2024-12-30_15-19-43_notes.txt")):
        repo.get(user_id="u2", path=PATH)
    assert not repo.exists(user_id="u2", path=PATH)


def test_a_missing_file_is_not_found(aws):
    with pytest.raises(NotFoundError, match=re.escape("File not found: nothing.txt")):
        FileRepository().get(user_id="u1", path=f"{FOLDER}/nothing.txt")


def test_delete_removes_the_file_and_is_idempotent(aws):
    repo = FileRepository()
    repo.put(user_id="u1", path=PATH, content=b"x")
    repo.delete(user_id="u1", path=PATH)
    repo.delete(user_id="u1", path=PATH)
    assert not repo.exists(user_id="u1", path=PATH)


def test_user_files_reads_name_and_bytes_for_one_user(aws):
    repo = FileRepository()
    repo.put(user_id="u1", path=PATH, content=b"data")
    assert UserFiles("u1", repo).read(PATH) == ("2024-12-30_15-19-43_notes.txt", b"data")
    with pytest.raises(NotFoundError):
        UserFiles("u2", repo).read(PATH)


@pytest.mark.parametrize("path", [
    "",
    "notes.txt",
    f"{FOLDER}/",
    f"{FOLDER}/a/b.txt",
    f"{FOLDER}/..",
    f"{FOLDER}/../../etc/passwd",
    f"{FOLDER}/notes..txt",
    f"{FOLDER}/a\\b.txt",
    f"{FOLDER}/a\x00.txt",
    f"../{FOLDER[3:]}/x.txt",
    f"/{FOLDER}/x.txt",
    f"{FOLDER}x/x.txt",
    "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz/x.txt",
    f"{FOLDER}/" + "a" * 256,
    f"{FOLDER}/" + "é" * 200,  # 200 characters, but 400 bytes
    None,
    ["x"],
])
def test_malformed_paths_are_refused_before_any_s3_call(path):
    with pytest.raises(InvalidInputError):
        validate_path(path)
    # No AWS here at all: a refused path must not reach S3 (the client would fail without moto).
    with pytest.raises(InvalidInputError):
        FileRepository(s3=object(), bucket="b").get(user_id="u1", path=path)


def test_well_formed_paths_pass():
    for path in (PATH, f"{FOLDER.upper()}/x", f"{FOLDER}/" + "a" * 255, f"{FOLDER}/name with spaces.csv"):
        assert validate_path(path) == path
