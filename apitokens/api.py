"""REST API for tokens (``/api/v1/auth/token/``): ``POST`` a username and password for a new token, ``DELETE``
with a token to revoke it.

The sign-in answers exactly as DRF's ``obtain_auth_token`` did (its serializer's fields and messages, in the
REST envelope), and passes through Kiln's throttled authentication backend (``console/security.py``) as every
sign-in does. Each ``POST`` issues a new token and leaves the login's others working: a store of digests has no
earlier token to give back.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apitokens.models import ApiToken
from apitokens.services import api_token_issue, api_token_revoke


# A sign-in: DRF's AuthTokenSerializer's fields, validation and messages (so its errors read as they always did).
class TokenRequestSerializer(serializers.Serializer):
    """A console login's username and password."""

    username = serializers.CharField(label="Username", write_only=True)
    password = serializers.CharField(label="Password", style={"input_type": "password"}, trim_whitespace=False, write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        username, password = attrs.get("username"), attrs.get("password")
        if not (username and password):
            raise serializers.ValidationError('Must include "username" and "password".', code="authorization")
        user = authenticate(request=self.context.get("request"), username=username, password=password)
        if not user:
            raise serializers.ValidationError("Unable to log in with provided credentials.", code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    """A new REST API token."""

    token = serializers.CharField(help_text="The new token, shown this once: send it as 'Authorization: Token <token>'")


# Public by design (no model permission, tests/restapi/test_permissions.py PUBLIC): anyone may sign in, a token revokes itself.
class ApiTokenView(APIView):
    throttle_classes = ()  # sign-in failures are throttled in the authentication backend (console/security.py)
    permission_classes = ()

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, summary="Sign in: a new token for a username and password",
                   operation_id="v1_auth_token_create")
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response({"token": api_token_issue(user=serializer.validated_data["user"])})

    @extend_schema(request=None, responses={204: None}, summary="Revoke the token that authenticates this request",
                   operation_id="v1_auth_token_destroy")
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):  # no credentials: 401; the console's session: 403
            self.permission_denied(request, message="DELETE revokes the token that authenticates it: send it as 'Authorization: Token <token>'.")
        api_token_revoke(token=request.auth)
        return Response(status=204)
