"""Checks of auditlens' SIEM documents against their official definitions.

* OCSF: the schema OCSF exports for the declared version (packaged by
  ``ocsf-json-schema``), checked with ``jsonschema``;
* ECS: the field reference of the declared version (``fixtures/reference/ecs``,
  from elastic/ecs): every leaf must be an ECS field of its type, or sit under
  an object ECS leaves open (``labels``) or under auditlens' own namespace;
* Alertmanager: the webhook format, as a JSON Schema written from Alertmanager's
  Go types (``fixtures/reference/alertmanager``).

Used by the format tests and by ``benchmarks/siem_conformance.py``.
"""

from __future__ import annotations

import csv
import functools
import ipaddress
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

from service.api.formats import ecs, ocsf

FIXTURES = Path(__file__).parent / "fixtures"


def _messages(validator: Draft202012Validator, document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@functools.cache
def _ocsf_validator() -> Draft202012Validator:
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=ocsf.OCSF_VERSION))
    class_name = schema.lookup_class_name_from_uid(class_uid=ocsf.CLASS_UID)
    return Draft202012Validator(schema.get_class_schema(class_name=class_name, profiles=[]))


def ocsf_errors(document: dict[str, Any]) -> list[str]:
    """Every way a finding breaks the official OCSF schema, as ``path: message``."""
    return _messages(_ocsf_validator(), document)


@functools.cache
def _alertmanager_validator() -> Draft202012Validator:
    path = FIXTURES / "reference" / "alertmanager" / "webhook-v4.schema.json"
    schema = orjson.loads(path.read_bytes())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def alertmanager_errors(body: dict[str, Any]) -> list[str]:
    """Every way a payload breaks Alertmanager's webhook format, as ``path: message``."""
    return _messages(_alertmanager_validator(), body)


CUSTOM_NAMESPACE = "auditlens"
STRINGS = {"keyword", "constant_keyword", "wildcard", "text", "match_only_text"}
INTEGERS = {"long", "integer", "short", "byte", "unsigned_long"}
NUMBERS = {"float", "double", "half_float", "scaled_float"}


@functools.cache
def reference() -> dict[str, dict[str, str]]:
    """ECS fields by name, with type and normalization, for the declared version."""
    path = FIXTURES / "reference" / "ecs" / f"fields-{ecs.ECS_VERSION}.csv"
    with path.open(newline="") as handle:
        return {row["field"]: row for row in csv.DictReader(handle)}


def leaves(document: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted paths to every non-object value, as ECS names fields."""
    found: list[tuple[str, Any]] = []
    for key, value in document.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in reference():
            found.extend(leaves(value, f"{path}."))
        else:
            found.append((path, value))
    return found


def _is_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _fits(kind: str, value: Any) -> bool:
    if kind in STRINGS:
        return isinstance(value, str)
    if kind in INTEGERS:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in NUMBERS:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "date":
        return _is_date(value)
    if kind == "ip":
        return isinstance(value, str) and _is_ip(value)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("object", "flattened", "nested"):
        return isinstance(value, dict | list)
    return False


def ecs_violations(document: dict[str, Any]) -> list[str]:
    """Every field that is not ECS (nor custom) or holds a value of the wrong type."""
    found = []
    for path, value in leaves(document):
        if path.split(".", 1)[0] == CUSTOM_NAMESPACE:
            continue
        field = reference().get(path)
        if field is None:
            found.append(f"{path}: not an ECS {ecs.ECS_VERSION} field")
            continue
        values = value if isinstance(value, list) and field["type"] != "nested" else [value]
        if isinstance(value, list) and field["normalization"] != "array":
            found.append(f"{path}: ECS does not make this field an array")
        bad = [v for v in values if not _fits(field["type"], v)]
        if bad:
            found.append(f"{path}: {bad[0]!r} is not of ECS type {field['type']}")
    return found
