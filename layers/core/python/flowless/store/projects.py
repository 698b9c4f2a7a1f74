"""Projects (Langflow's folders): each user's own, with unique names and a default "Starter Project"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import ConflictError, NotFoundError
from flowless.store._dynamo import Table, cancellation_codes, error_code
from flowless.store.names import next_free_name

__all__ = ["Project", "ProjectRepository", "default_project_id"]

_DEFAULT_NAMESPACE = uuid.UUID("5c1f3a52-7c59-4d0e-9b7a-6f3c2b0d9e11")
_NAME_RETRIES = 8


def default_project_id(user_id: str) -> str:
    """The id of a user's default project: derived, so every container creates the same one."""
    return str(uuid.uuid5(_DEFAULT_NAMESPACE, f"default-project:{user_id}"))


@dataclass
class Project:
    id: str
    user_id: str
    name: str
    description: str | None = None
    parent_id: str | None = None
    auth_settings: dict[str, Any] | None = None
    created_at: str = field(default_factory=now_iso)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Project:
        return cls(
            id=item["id"],
            user_id=item["user_id"],
            name=item["name"],
            description=item.get("description"),
            parent_id=item.get("parent_id"),
            auth_settings=item.get("auth_settings"),
            created_at=item.get("created_at", ""),
        )

    def to_item(self) -> dict[str, Any]:
        return {
            "PK": f"USER#{self.user_id}",
            "SK": f"PROJECT#{self.id}",
            "type": "project",
            "id": self.id,
            "user_id": self.user_id,
            "name": self.name,
            "description": self.description,
            "parent_id": self.parent_id,
            "auth_settings": self.auth_settings,
            "created_at": self.created_at,
        }


def _name_claim(user_id: str, name: str, project_id: str) -> dict[str, Any]:
    return {"PK": f"USER#{user_id}", "SK": f"PROJECTNAME#{name}", "project_id": project_id}


class ProjectRepository:
    """A user's projects."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def _taken_names(self, user_id: str, prefix: str) -> list[str]:
        return [
            item["SK"].removeprefix("PROJECTNAME#")
            for item in self.table.query_prefix(f"USER#{user_id}", f"PROJECTNAME#{prefix}", projection="SK")
        ]

    def create(
        self, *, user_id: str, name: str, description: str | None = None,
        auth_settings: dict[str, Any] | None = None, project_id: str | None = None,
    ) -> Project:
        """Create a project; a taken name becomes "Name (n)" as in Langflow."""
        for _ in range(_NAME_RETRIES):
            unique = next_free_name(name, self._taken_names(user_id, name))
            project = Project(id=project_id or new_id(), user_id=user_id, name=unique,
                              description=description, auth_settings=auth_settings)
            try:
                self.table.transact([
                    {"Put": {"Item": _name_claim(user_id, unique, project.id),
                             "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"Item": project.to_item(), "ConditionExpression": "attribute_not_exists(PK)"}},
                ])
                return project
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                if cancellation_codes(exc)[1:2] == ["ConditionalCheckFailed"]:
                    # The id exists already: only the derived default project can get here.
                    return self.get(user_id=user_id, project_id=project.id)
        raise ConflictError("Could not find a free project name; try again")

    def ensure_default(self, *, user_id: str, name: str) -> Project:
        """The user's default project, created on first use."""
        pid = default_project_id(user_id)
        item = self.table.get(f"USER#{user_id}", f"PROJECT#{pid}")
        if item is not None:
            return Project.from_item(item)
        return self.create(user_id=user_id, name=name, project_id=pid)

    def get(self, *, user_id: str, project_id: str) -> Project:
        item = self.table.get(f"USER#{user_id}", f"PROJECT#{project_id}")
        if item is None:
            raise NotFoundError("Project not found")
        return Project.from_item(item)

    def list_for(self, user_id: str) -> list[Project]:
        return [Project.from_item(i) for i in self.table.query_prefix(f"USER#{user_id}", "PROJECT#")]

    def update(
        self, *, user_id: str, project_id: str, name: str | None = None,
        description: str | None = None, parent_id: str | None = None,
        auth_settings: dict[str, Any] | None = None,
    ) -> Project:
        """Rename or re-describe a project; a taken name is a DuplicateError."""
        from flowless.errors import DuplicateError

        project = self.get(user_id=user_id, project_id=project_id)
        old_name = project.name
        if description is not None:
            project.description = description
        if parent_id is not None:
            project.parent_id = parent_id
        if auth_settings is not None:
            project.auth_settings = auth_settings
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": project.to_item(), "ConditionExpression": "attribute_exists(PK)"}}
        ]
        if name is not None and name != old_name:
            project.name = name
            actions = [
                {"Put": {"Item": project.to_item(), "ConditionExpression": "attribute_exists(PK)"}},
                {"Put": {"Item": _name_claim(user_id, name, project_id),
                         "ConditionExpression": "attribute_not_exists(PK)"}},
                {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"PROJECTNAME#{old_name}"}}},
            ]
        try:
            self.table.transact(actions)
        except Exception as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(exc)
            if codes[:1] == ["ConditionalCheckFailed"]:
                raise NotFoundError("Project not found") from exc
            raise DuplicateError("Project name must be unique") from exc
        return project

    def delete(self, *, user_id: str, project_id: str) -> None:
        project = self.get(user_id=user_id, project_id=project_id)
        self.table.transact([
            {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"PROJECT#{project_id}"}}},
            {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"PROJECTNAME#{project.name}"}}},
        ])
