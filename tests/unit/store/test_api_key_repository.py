"""ApiKeyRepository against moto: only hashes are stored, keys are scoped to their owner."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from flowless.errors import NotFoundError
from flowless.store.api_keys import ApiKeyRepository


def _all_items(table_name: str) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=table_name)["Items"]


def test_only_the_sha256_of_a_key_is_stored(aws):
    repo = ApiKeyRepository()
    record, key = repo.create(user_id="u1", name="ci")
    dump = repr(_all_items(repo.table.name))
    assert key not in dump
    assert key[8:] not in dump
    assert hashlib.sha256(key.encode()).hexdigest() in dump
    assert record.masked.startswith(key[:8]) and record.masked.endswith("*")


def test_a_key_is_found_by_its_clear_value(aws):
    repo = ApiKeyRepository()
    record, key = repo.create(user_id="u1", name="ci")
    assert repo.find_by_key(key).id == record.id
    assert repo.find_by_key(key + "x") is None


def test_keys_are_listed_per_user(aws):
    repo = ApiKeyRepository()
    repo.create(user_id="u1", name="a")
    repo.create(user_id="u1", name="b")
    repo.create(user_id="u2", name="c")
    assert sorted(k.name for k in repo.list_for("u1")) == ["a", "b"]


def test_deleting_another_users_key_is_not_found_and_keeps_it(aws):
    repo = ApiKeyRepository()
    record, key = repo.create(user_id="u1", name="a")
    with pytest.raises(NotFoundError):
        repo.delete(user_id="u2", key_id=record.id)
    assert repo.find_by_key(key) is not None
    repo.delete(user_id="u1", key_id=record.id)
    assert repo.find_by_key(key) is None


def test_registering_a_known_key_twice_keeps_one(aws):
    repo = ApiKeyRepository()
    assert repo.register(user_id="u1", key="sk-bootstrap", name="bootstrap") is True
    assert repo.register(user_id="u1", key="sk-bootstrap", name="bootstrap") is False
    assert len(repo.list_for("u1")) == 1
