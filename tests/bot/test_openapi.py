"""The served OpenAPI document covers every registered route and stays self-consistent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from aiohttp.test_utils import TestServer

from tests.conftest import CRM_TASK, Api

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Operations that need no token; every other operation must document a 4xx answer.
PUBLIC = {
    ("/api/openapi.json", "get"),
    ("/healthz", "get"),
    ("/metrics", "get"),
    # The web widget's files: the page asks for a token itself.
    ("/", "get"),
    ("/widget.js", "get"),
    ("/widget.css", "get"),
    ("/sw.js", "get"),
    # Trades a one-time sign-in code for a token, so it cannot ask for one.
    ("/api/session", "post"),
}


async def _document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/api/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


def _openapi_path(canonical: str) -> str:
    """aiohttp `/a/{name}` or `/a/{name:regex}` -> OpenAPI `/a/{name}` (regex may nest braces)."""
    out: list[str] = []
    depth = 0
    in_name = False
    for char in canonical:
        if char == "{":
            depth += 1
            if depth == 1:
                out.append(char)
                in_name = True
                continue
        elif char == "}":
            depth -= 1
            if depth == 0:
                out.append(char)
                in_name = False
                continue
        if depth == 0:
            out.append(char)
        elif in_name:
            if char == ":":
                in_name = False
            else:
                out.append(char)
    return "".join(out)


def _registered(api: Api) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    assert isinstance(api.client.server, TestServer)
    for route in api.client.server.app.router.routes():
        if route.method == "HEAD":
            continue
        canonical = getattr(route.resource, "canonical", None)
        if not canonical:
            continue
        routes.add((_openapi_path(canonical), route.method.lower()))
    return routes


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"non-local $ref {ref}"
    node: Any = document
    for raw in ref[2:].split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and key in node, f"$ref {ref} does not resolve"
        node = node[key]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_path_conversion() -> None:
    assert (
        _openapi_path("/api/tasks/{task_id}/steps/{order}") == "/api/tasks/{task_id}/steps/{order}"
    )
    assert _openapi_path("/a/{name:[0-9a-f]{1,32}}/b") == "/a/{name}/b"
    assert _openapi_path("/healthz") == "/healthz"


async def test_served_without_token_as_openapi_31_with_bearer(api: Api) -> None:
    document = await _document(api)
    assert document["openapi"].startswith("3.1.")
    schemes = document["components"]["securitySchemes"]
    bearer = [
        name
        for name, scheme in schemes.items()
        if scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer"
    ]
    assert bearer
    assert {bearer[0]: []} in document["security"]
    for path, method in PUBLIC:
        assert document["paths"][path][method]["security"] == []


async def test_every_registered_route_is_documented(api: Api) -> None:
    document = await _document(api)
    documented = {(path, method) for path, method, _ in _operations(document)}
    registered = _registered(api)
    assert registered, "no routes found"
    missing = sorted(registered - documented)
    assert not missing, f"routes missing from openapi.yaml: {missing}"
    extra = sorted(documented - registered)
    assert not extra, f"documented but not registered: {extra}"


async def test_every_operation_documents_its_failures(api: Api) -> None:
    document = await _document(api)
    public = set()
    for path, method, operation in _operations(document):
        responses = operation["responses"]
        assert any(code.startswith("2") or code == "101" for code in responses), (path, method)
        if operation.get("security") == []:
            public.add((path, method))
            continue
        assert "401" in responses, (path, method)
        assert any(code.startswith("4") for code in responses), (path, method)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(responses), (path, method)
        params = [
            _resolve(document, p["$ref"]) if "$ref" in p else p
            for p in (
                *document["paths"][path].get("parameters", []),
                *operation.get("parameters", []),
            )
        ]
        for name in re.findall(r"\{(\w+)\}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in params), (path, name)
            assert "404" in responses, (path, method)
    assert public == PUBLIC


async def test_every_ref_resolves_and_request_bodies_are_closed(api: Api) -> None:
    document = await _document(api)
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        _resolve(document, ref)
    for path, method, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        schema = _resolve(document, schema["$ref"]) if "$ref" in schema else schema
        assert schema["additionalProperties"] is False, (path, method)


async def test_progress_document_matches_its_schema_keys(api: Api) -> None:
    document = await _document(api)
    schemas = document["components"]["schemas"]
    created = await api.client.post("/api/tasks", json=CRM_TASK, headers=api.auth())
    assert created.status == 201
    progress = await created.json()
    task_schema, step_schema = schemas["ProgressDocument"], schemas["Step"]
    assert set(task_schema["required"]) <= set(progress) <= set(task_schema["properties"])
    for step in progress["steps"]:
        assert set(step_schema["required"]) <= set(step) <= set(step_schema["properties"])
        for substep in step.get("substeps", []):
            assert set(substep) == set(schemas["Substep"]["properties"])
