"""One plain Django view answering the same JSON as the bench's hello function behind an HTTP route."""

from django.http import HttpRequest, JsonResponse
from django.urls import path


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "Hello from Lambda!"})


urlpatterns = [path("hello", hello)]
