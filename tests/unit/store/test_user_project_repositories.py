"""Users and projects against moto: unique usernames, password hashes, the derived default project."""

from __future__ import annotations

import pytest

from flowless.errors import DuplicateError, NotFoundError
from flowless.store.projects import ProjectRepository, default_project_id
from flowless.store.users import UserRepository, verify_password


def test_a_taken_username_raises_duplicate_error(aws):
    repo = UserRepository()
    repo.create(username="ana", password="pw")
    with pytest.raises(DuplicateError):
        repo.create(username="ana", password="other")


def test_passwords_are_stored_as_salted_hashes(aws):
    user = UserRepository().create(username="ana", password="correct horse")
    assert "correct horse" not in user.password_hash
    assert verify_password("correct horse", user.password_hash)
    assert not verify_password("wrong", user.password_hash)


def test_ensure_superuser_creates_once(aws):
    repo = UserRepository()
    first = repo.ensure_superuser("langflow")
    second = repo.ensure_superuser("langflow")
    assert first.id == second.id and first.is_superuser


def test_default_project_is_created_once_with_a_derived_id(aws):
    repo = ProjectRepository()
    a = repo.ensure_default(user_id="u1", name="Starter Project")
    b = repo.ensure_default(user_id="u1", name="Starter Project")
    assert a.id == b.id == default_project_id("u1")
    assert [p.name for p in repo.list_for("u1")] == ["Starter Project"]


def test_project_names_are_made_unique_per_user(aws):
    repo = ProjectRepository()
    names = [repo.create(user_id="u1", name="P").name for _ in range(3)]
    assert names == ["P", "P (1)", "P (2)"]
    assert repo.create(user_id="u2", name="P").name == "P"


def test_renaming_a_project_to_a_taken_name_is_refused(aws):
    repo = ProjectRepository()
    repo.create(user_id="u1", name="A")
    b = repo.create(user_id="u1", name="B")
    with pytest.raises(DuplicateError):
        repo.update(user_id="u1", project_id=b.id, name="A")
    assert repo.get(user_id="u1", project_id=b.id).name == "B"


def test_another_users_project_is_not_found(aws):
    repo = ProjectRepository()
    mine = repo.create(user_id="u1", name="Mine")
    with pytest.raises(NotFoundError):
        repo.get(user_id="u2", project_id=mine.id)
