"""Every API error, whoever raises it, has one JSON shape: status, code, message, and field errors."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from products import selectors
from products.models import Product

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["message"]
    return body


def test_unknown_api_path_is_a_json_404():
    assert_error(APIClient().get("/api/v1/no-such-thing/"), 404, "not_found")


def test_unknown_object_is_a_json_404():
    assert_error(APIClient().get("/api/v1/products/999999/"), 404, "not_found")


def test_site_pages_keep_their_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_a_json_405(owner):
    client = APIClient()
    client.force_authenticate(owner.user)
    assert_error(client.put("/api/v1/products/", {}), 405, "method_not_allowed")


def test_malformed_json_is_a_json_400_and_changes_nothing(owner):
    client = APIClient()
    client.force_authenticate(owner.user)
    response = client.post("/api/v1/products/", data='{"name": ', content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Product.objects.exists()


def test_non_json_body_is_a_json_415(owner):
    client = APIClient()
    client.force_authenticate(owner.user)
    response = client.post("/api/v1/products/", data="name=x", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_field_errors_are_listed_by_field(owner):
    client = APIClient()
    client.force_authenticate(owner.user)
    body = assert_error(client.post("/api/v1/products/", {"category": "spaceships"}), 400, "invalid")
    assert set(body["errors"]) == {"name", "category", "supplier"}
    assert body["errors"]["category"] == ['"spaceships" is not a valid choice.']


def test_bad_token_is_a_json_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(client.get("/api/v1/products/"), 401, "authentication_failed")


def test_throttled_requests_get_a_json_429_with_retry_after(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "3/min"})
    client = APIClient()
    statuses = [client.get("/api/v1/suppliers/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/suppliers/")
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_server_errors_are_json_too(monkeypatch):
    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr(selectors, "supplier_list", broken)
    client = APIClient(raise_request_exception=False)
    body = assert_error(client.get("/api/v1/suppliers/"), 500, "server_error")
    assert "database on fire" not in str(body)


@pytest.mark.parametrize(
    "query",
    ["is_public=maybe", "is_public=2", "produced_after=", "page_size=0", "page_size=500", "page_size=1&page_size=2"],
)
def test_filters_and_page_sizes_it_cannot_apply_are_refused_not_ignored(query):
    path = "/api/v1/batches/" if "produced" in query else "/api/v1/products/"
    body = assert_error(APIClient().get(f"{path}?{query}"), 400, "invalid")
    assert query.split("=")[0] in body["errors"]


def test_a_repeated_filter_is_refused():
    body = assert_error(APIClient().get("/api/v1/products/?category=food&category=textile"), 400, "invalid")
    assert body["errors"]["category"] == ["Give this filter once."]


def test_unknown_api_paths_are_json_even_with_debug_on(settings):
    settings.DEBUG = True
    assert_error(APIClient().get("/api/v2/whatever"), 404, "not_found")


def test_unsafe_methods_on_unknown_api_paths_are_json_404s_not_csrf_pages():
    assert_error(APIClient(enforce_csrf_checks=True).patch("/api/v1/declarations/1.5/", {}), 404, "not_found")


def test_a_session_write_without_csrf_token_is_a_json_403(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner.user)
    response = client.patch(f"/api/v1/suppliers/{owner.supplier.slug}/", {"website": "https://x.example"})
    assert_error(response, 403, "permission_denied")
    owner.supplier.refresh_from_db()
    assert owner.supplier.website == ""
