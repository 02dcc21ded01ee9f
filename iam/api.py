"""REST API for roles (``/api/v1/roles/``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from iam import services
from iam.models import Role
from restapi.bodies import json_object


def role_data(role: Role) -> dict[str, Any]:
    return {"name": role.name, "arn": role.arn, "description": role.description, "policy_document": role.policy_document, "created_at": role.created_at, "updated_at": role.updated_at}


def _role(name: str) -> Role:
    try:
        return Role.objects.get(name=name)
    except Role.DoesNotExist:
        raise NotFound(f"Role not found: {name}") from None


class RoleListView(APIView):
    permission_model = "iam.role"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="List roles", operation_id="v1_roles_list")
    def get(self, request: Request) -> Response:
        return Response({"roles": [role_data(r) for r in Role.objects.all()]})

    @extend_schema(request=dict, responses={201: dict}, summary="Create a role")
    def post(self, request: Request) -> Response:
        data = json_object(request.data, allowed=("name", "policy_document", "description"), required=("policy_document",))
        role = services.role_create(name=data.get("name", ""), policy_document=data["policy_document"], description=data.get("description", "") or "")
        return Response(role_data(role), status=201)


class RoleDetailView(APIView):
    permission_model = "iam.role"  # restapi/permissions.py

    @extend_schema(responses={200: dict}, summary="Get a role")
    def get(self, request: Request, name: str) -> Response:
        return Response(role_data(_role(name)))

    @extend_schema(request=dict, responses={200: dict}, summary="Update a role's policy or description")
    def patch(self, request: Request, name: str) -> Response:
        data = json_object(request.data, allowed=("policy_document", "description"))
        role = services.role_update(role=_role(name), policy_document=data.get("policy_document"), description=data.get("description"))
        return Response(role_data(role))

    @extend_schema(responses={204: None}, summary="Delete a role")
    def delete(self, request: Request, name: str) -> Response:
        services.role_delete(role=_role(name))
        return Response(status=204)
