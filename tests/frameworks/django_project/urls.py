"""URLs and views of the Django integration tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path

PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


async def api(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"items": [1, 2, 3], "html": "<body></body>"})


def whoami(request: HttpRequest) -> HttpResponse:
    consent = request.scope["state"]["consent"]  # type: ignore[attr-defined]
    body = f"decided={consent.decided} analytics={consent.allows('analytics')}"
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def cart(request: HttpRequest) -> HttpResponse:
    request.session["visits"] = request.session.get("visits", 0) + 1
    response = HttpResponse(PAGE.replace("Shop</h1>", f"Shop {request.session['visits']}</h1>"))
    response.set_cookie("_ga", "GA1.1.123.456")  # a tracker cookie: held back before consent
    return response


def templated(request: HttpRequest) -> HttpResponse:
    return render(request, "page.html", {"title": "Templated"})


urlpatterns = [
    path("", page),
    path("api", api),
    path("whoami", whoami),
    path("cart", cart),
    path("templated", templated),
]
