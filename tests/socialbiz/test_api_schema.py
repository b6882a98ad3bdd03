"""The OpenAPI 3 schema is valid and complete, and its docs work with no internet access."""

import shutil

import pytest
import yaml
from drf_spectacular.validation import validate_schema
from openapi_spec_validator import validate as validate_spec
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 meta-schema


def test_published_json_schema_passes_openapi_spec_validator():
    # The document as integrators fetch it, checked by the validator their code generators use: it also checks
    # defaults and examples against their own schemas, which drf-spectacular's meta-schema check does not.
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    assert document["openapi"].startswith(("3.0.", "3.1."))
    validate_spec(document)  # raises OpenAPIValidationError on the first problem


def test_schema_lists_facilities_and_evidence_with_their_writes(schema):
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/facilities/"])
    assert {"get", "patch"} <= set(paths["/api/v1/facilities/{id}/"])
    assert {"get", "post"} <= set(paths["/api/v1/evidence/"])
    assert "post" in paths["/api/v1/evidence/{id}/revoke/"]
    assert "post" in paths["/api/v1/evidence/{id}/links/"]
    filters = {p["name"] for p in paths["/api/v1/facilities/"]["get"]["parameters"]}
    assert {"location_uri", "owner", "country", "gln"} <= filters
    for create in (paths["/api/v1/facilities/"]["post"], paths["/api/v1/evidence/"]["post"]):
        assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
        assert "422" in create["responses"]
    batch = schema["components"]["schemas"]["BatchOut"]["properties"]
    assert all(batch[name]["format"] == "uri" for name in ("uri", "page_url", "qr_svg", "qr_png"))
    assert schema["components"]["schemas"]["ProductOut"]["properties"]["uri"]["format"] == "uri"


def test_every_operation_documents_its_errors_in_the_shared_shape(schema):
    error_ref = {"$ref": "#/components/schemas/Error"}
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 15
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "404", "429", "500"):
            assert responses[status]["content"]["application/json"]["schema"] == error_ref, (path, method, status)
        if method in ("post", "patch", "delete"):
            assert "403" in responses, (path, method)


def test_idempotent_creates_document_the_header_and_the_422(schema):
    create_batch = schema["paths"]["/api/v1/batches/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create_batch["parameters"]]
    assert "422" in create_batch["responses"]


def test_docs_page_serves_its_own_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_docs_render_in_a_browser_that_can_reach_nothing_but_the_site(live_server, transactional_db):
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_page()

        def only_the_site(route):
            if route.request.url.startswith(live_server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_site)
        page.goto(live_server.url + "/api/docs/")
        page.wait_for_selector(".opblock", timeout=20000)
        titles = page.locator(".opblock-summary-path").all_inner_texts()
        browser.close()
    assert outside == []
    assert any("/api/v1/products/" in title for title in titles)
