"""Routes of the REST API under ``/api/v1/``."""

from django.urls import include, path

from apitokens import api as apitokens_api
from functions import api as functions_api
from iam import api as iam_api
from invoker import api as invoker_api

urlpatterns = [
    path("auth/token/", apitokens_api.ApiTokenView.as_view(), name="api-token"),
    path("functions/", functions_api.FunctionListView.as_view(), name="api-functions"),
    path("functions/<str:name>/", functions_api.FunctionDetailView.as_view(), name="api-function"),
    path("functions/<str:name>/concurrency/", functions_api.FunctionConcurrencyView.as_view(), name="api-function-concurrency"),
    path("functions/<str:name>/event-invoke-config/", functions_api.FunctionEventInvokeConfigView.as_view(), name="api-function-event-invoke-config"),
    path("functions/<str:name>/versions/", functions_api.FunctionVersionListView.as_view(), name="api-function-versions"),
    path("functions/<str:name>/aliases/", functions_api.FunctionAliasListView.as_view(), name="api-function-aliases"),
    path("functions/<str:name>/aliases/<str:alias>/", functions_api.FunctionAliasDetailView.as_view(), name="api-function-alias"),
    path("functions/<str:name>/invoke/", invoker_api.InvokeView.as_view(), name="api-function-invoke"),
    path("invocations/", invoker_api.InvocationListView.as_view(), name="api-invocations"),
    path("invocations/<str:request_id>/", invoker_api.InvocationDetailView.as_view(), name="api-invocation"),
    path("invocations/<str:request_id>/replay/", invoker_api.InvocationReplayView.as_view(), name="api-invocation-replay"),
    path("layers/", functions_api.LayerListView.as_view(), name="api-layers"),
    path("runtimes/", functions_api.RuntimeListView.as_view(), name="api-runtimes"),
    path("roles/", iam_api.RoleListView.as_view(), name="api-roles"),
    path("roles/<str:name>/", iam_api.RoleDetailView.as_view(), name="api-role"),
    path("", include("httpapi.api_urls")),
    path("", include("events.urls")),
    path("", include("storage.urls")),
    path("", include("metrics.urls")),
    path("", include("functions.urls")),
]
