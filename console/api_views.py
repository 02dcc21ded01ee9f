"""The REST API's answer to a path it does not have: the JSON error envelope, 404."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from restapi.errors import error_envelope


def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_envelope("NotFound", f"No API resource at {request.path}; see /api/docs/ for the REST API's paths."), status=404)
