"""The OpenAPI contract, loaded once and shared by the mock and the suite.

Everything that knows a path, a schema, an example or the lifecycle reads it
from here, so the spec stays the single source of truth. The spec ships inside
the wheel (`contracts/_data/openapi`); in a source checkout it is read from the
repository's `openapi/` folder.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILENAME = "channel-manager.yaml"
SPEC_URI = "urn:otacm:channel-manager"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def data_dir(name: str) -> Path:
    """A shipped data folder: inside the installed package, else the repo root."""
    bundled = Path(__file__).parent / "_data" / name
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parents[1] / name


def spec_path() -> Path:
    return data_dir("openapi") / SPEC_FILENAME


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: how to call it and what it may answer."""

    operation_id: str
    method: str
    path: str
    definition: dict[str, Any]

    @property
    def status_codes(self) -> set[str]:
        return set(self.definition.get("responses", {}))


def _strict_variant(node: Any) -> Any:
    """Fold every `x-strict` block into its schema with `allOf`.

    `keyOrder` is not JSON Schema and is left out; `Spec.key_order` serves it.
    """
    if isinstance(node, list):
        return [_strict_variant(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _strict_variant(value) for key, value in node.items()}
    strict = node.pop("x-strict", None)
    if strict is None:
        return node
    strict = {key: value for key, value in strict.items() if key != "keyOrder"}
    return {"allOf": [node, strict]}


class Spec:
    """The parsed spec with schema validators for both strictness levels."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        # Built once per spec and key (building one costs more than a request); kept on the instance, so
        # a Spec and its validators go away together.
        self._validators: dict[tuple[str, bool], Draft202012Validator] = {}
        self._response_validators: dict[tuple[str, str, bool], Draft202012Validator | None] = {}

    @classmethod
    def from_file(cls, path: Path) -> "Spec":
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    # -- operations ---------------------------------------------------------
    @cached_property
    def operations(self) -> dict[str, Operation]:
        found: dict[str, Operation] = {}
        for path, item in self.document["paths"].items():
            for method in HTTP_METHODS:
                if method in item:
                    definition = item[method]
                    found[definition["operationId"]] = Operation(
                        definition["operationId"], method.upper(), path, definition
                    )
        return found

    def webhook(self, name: str = "ota_cm_order_processed") -> dict[str, Any]:
        return self.document["webhooks"][name]["post"]

    # -- schemas ------------------------------------------------------------
    @cached_property
    def _registries(self) -> dict[bool, Registry]:
        def registry(document: dict[str, Any]) -> Registry:
            resource = Resource.from_contents(document, default_specification=DRAFT202012)
            return Registry().with_resource(SPEC_URI, resource)

        return {False: registry(self.document), True: registry(_strict_variant(copy.deepcopy(self.document)))}

    def validator(self, schema_name: str, strict: bool = False) -> Draft202012Validator:
        """A validator for `#/components/schemas/<schema_name>`, built once per (schema, strictness)."""
        key = (schema_name, strict)
        if key not in self._validators:
            if schema_name not in self.document["components"]["schemas"]:
                raise KeyError(f"no schema {schema_name!r} in {SPEC_FILENAME}")
            ref = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
            self._validators[key] = Draft202012Validator(
                ref, registry=self._registries[strict], format_checker=FormatChecker()
            )
        return self._validators[key]

    def validator_for(self, schema: dict[str, Any], strict: bool = False) -> Draft202012Validator:
        """A validator for an inline schema that may `$ref` the components."""
        schema = _rebase_refs(copy.deepcopy(schema))
        return Draft202012Validator(schema, registry=self._registries[strict], format_checker=FormatChecker())

    def key_order(self, schema_name: str) -> list[str]:
        """The server's key order for a schema (`x-strict.keyOrder`), or []."""
        schema = self.document["components"]["schemas"][schema_name]
        return list(schema.get("x-strict", {}).get("keyOrder", []))

    def response_schema(self, operation_id: str, status: int | str) -> dict[str, Any] | None:
        """The JSON schema of an operation's response, following `$ref`s."""
        responses = self.operations[operation_id].definition["responses"]
        response = responses.get(str(status))
        if response is None:
            return None
        response = self.resolve(response)
        content = response.get("content", {}).get("application/json")
        return None if content is None else content["schema"]

    def response_validator(
        self, operation_id: str, status: int | str, strict: bool = False
    ) -> Draft202012Validator | None:
        """A validator for an operation's JSON response, built once per
        (operation, status, strictness): building one costs more than a request."""
        key = (operation_id, str(status), strict)
        if key not in self._response_validators:
            schema = self.response_schema(operation_id, str(status))
            self._response_validators[key] = None if schema is None else self.validator_for(schema, strict)
        return self._response_validators[key]

    def request_schema(self, operation_id: str) -> dict[str, Any] | None:
        body = self.operations[operation_id].definition.get("requestBody")
        if body is None:
            return None
        return self.resolve(body)["content"]["application/json"]["schema"]

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow a local `$ref` (`#/components/...`) to what it names."""
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def examples(self) -> Iterator[tuple[str, str, Any]]:
        """Every named example as (where, schema-or-None, value).

        `where` names the place so a failing test says which example broke.
        """
        for operation in self.operations.values():
            yield from self._operation_examples(operation.operation_id, operation.definition)
        yield from self._operation_examples("webhook ota_cm_order_processed", self.webhook())

    def _operation_examples(self, name: str, definition: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
        body = definition.get("requestBody")
        if body:
            content = self.resolve(body)["content"]["application/json"]
            for key, example in content.get("examples", {}).items():
                yield f"{name} request {key}", content["schema"], self.resolve(example)["value"]
        for status, response in definition.get("responses", {}).items():
            content = self.resolve(response).get("content", {}).get("application/json")
            if not content:
                continue
            for key, example in content.get("examples", {}).items():
                yield f"{name} {status} {key}", content["schema"], self.resolve(example)["value"]


def _rebase_refs(node: Any) -> Any:
    """Point local `#/components/...` refs of an inline schema at the spec."""
    if isinstance(node, list):
        return [_rebase_refs(item) for item in node]
    if isinstance(node, dict):
        return {
            key: (f"{SPEC_URI}{value}" if key == "$ref" and value.startswith("#/") else _rebase_refs(value))
            for key, value in node.items()
        }
    return node


@lru_cache(maxsize=1)
def load_spec() -> Spec:
    """The shipped spec, parsed once per process."""
    return Spec.from_file(spec_path())
