#!/usr/bin/env python3
"""Checks that the API contract is worth reading, and that what it shows is true.

Usage: check_examples.py path/to/openapi.yaml

1. Validates the document with openapi-spec-validator (OpenAPI 3.1).
2. Validates every `example` and every `examples` entry found on media types, parameters,
   headers and schemas against the schema it belongs to, `$ref`s resolved within the
   document, with jsonschema in the OpenAPI 3.1 dialect (JSON Schema Draft 2020-12) and the
   formats `date`, `date-time`, `uuid`, `email`, `int32` and `int64` asserted.
3. Measures the documentation and fails when any of it is missing: every operation has a
   `description`, every JSON request and response body (media types `application/json` and
   `*+json`, including the shared problem responses) has an `example`, every schema property
   (in every `properties` map, nested ones included) and every parameter has a `description`.

Each problem is printed with the JSON pointer of what it is about; the last line is a summary
(`examples: N checked, 0 invalid; operations described: 90/90; properties described: ...`).
Exit status: 0 when there is no problem, 1 when there is one, 2 when the file cannot be read.

Needs only what `scripts/lib/common.sh` installs into `.data/venv` (openapi-spec-validator
0.9.0, which brings jsonschema, referencing and PyYAML) and the standard library.
"""

import datetime
import re
import sys
import uuid
from urllib.parse import quote

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

try:  # The OpenAPI 3.1 dialect (Draft 2020-12 plus OpenAPI's annotation keywords).
    from openapi_schema_validator import OAS31Validator as SchemaValidator
except ImportError:  # pragma: no cover - the plain dialect the OpenAPI one extends
    SchemaValidator = jsonschema.Draft202012Validator

from openapi_spec_validator import OpenAPIV31SpecValidator

DOCUMENT_URI = "urn:crm-contract"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keywords whose value is one schema, a list of schemas, or a map of name -> schema.
SCHEMA_KEYWORDS = ("items", "additionalProperties", "not", "if", "then", "else", "contains",
                   "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema")
SCHEMA_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAP_KEYWORDS = ("properties", "patternProperties", "dependentSchemas", "$defs")


# MARK: Formats

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_date(value):
    if not isinstance(value, str):
        return True
    if not DATE_RE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value):
    """RFC 3339 `date-time`: a full date, a time and an offset (Z or +hh:mm)."""
    if not isinstance(value, str):
        return True
    match = DATE_TIME_RE.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    offset = match.group(8)
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if offset not in ("Z", "z") and (int(offset[1:3]) > 23 or int(offset[4:6]) > 59):
        return False
    return True


def is_uuid(value):
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))


def is_email(value):
    return not isinstance(value, str) or EMAIL_RE.match(value) is not None


def integer_range(bits):
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            return True
        return low <= value <= high
    return check


def format_checker():
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(is_date)
    checker.checks("date-time")(is_date_time)
    checker.checks("uuid")(is_uuid)
    checker.checks("email")(is_email)
    checker.checks("int32")(integer_range(32))
    checker.checks("int64")(integer_range(64))
    return checker


# MARK: Walking the document

def escape(token):
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens):
    return "".join("/" + escape(token) for token in tokens)


def schema_nodes(schema, at):
    """Every schema object within `schema` (itself included), with its pointer; `$ref`s are
    not followed (the schema they name is walked where it is defined)."""
    if not isinstance(schema, dict):
        return
    yield at, schema
    for keyword in SCHEMA_KEYWORDS:
        if isinstance(schema.get(keyword), dict):
            yield from schema_nodes(schema[keyword], at + pointer(keyword))
    for keyword in SCHEMA_LIST_KEYWORDS:
        if isinstance(schema.get(keyword), list):
            for index, item in enumerate(schema[keyword]):
                yield from schema_nodes(item, at + pointer(keyword, index))
    for keyword in SCHEMA_MAP_KEYWORDS:
        if isinstance(schema.get(keyword), dict):
            for name, item in schema[keyword].items():
                yield from schema_nodes(item, at + pointer(keyword, name))


def is_json_media_type(name):
    essence = name.split(";")[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


class Contract:
    def __init__(self, document):
        self.document = document
        self.problems = []
        self.examples_checked = 0
        self.examples_invalid = 0
        self.operations = [0, 0]  # described, total
        self.properties = [0, 0]
        self.parameters = [0, 0]
        self.bodies = [0, 0]
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(DOCUMENT_URI, resource)
        self.formats = format_checker()
        self.validators = {}

    def problem(self, at, message):
        self.problems.append((at or "/", message))

    # Validating values

    def validator(self, schema_at):
        if schema_at not in self.validators:
            reference = {"$ref": DOCUMENT_URI + "#" + quote(schema_at, safe="/~")}
            self.validators[schema_at] = SchemaValidator(
                reference, registry=self.registry, format_checker=self.formats)
        return self.validators[schema_at]

    def check_value(self, value, schema_at, example_at):
        self.examples_checked += 1
        errors = []
        foreign = non_json(value, example_at)
        if foreign:
            errors.append(foreign)
        else:
            try:
                found = sorted(self.validator(schema_at).iter_errors(value),
                               key=lambda e: list(e.absolute_path))
            except jsonschema.exceptions.SchemaError as error:
                found = []
                errors.append((example_at, f"cannot be checked: the schema is not valid: {error.message}"))
            except Exception as error:  # an unresolvable $ref, for one
                found = []
                errors.append((example_at, f"cannot be checked: {error}"))
            for error in found:
                where = example_at + "".join("/" + escape(p) for p in error.absolute_path)
                errors.append((where, error.message))
        if errors:
            self.examples_invalid += 1
            for where, message in errors:
                self.problem(where, f"example does not match its schema {schema_at}: {message}")

    def check_examples_of(self, owner, owner_at, schema_at, named_examples):
        """`example` and `examples` on a media type, parameter or header (named Example
        Objects) or on a schema (`named_examples` false: a list of values)."""
        if "example" in owner:
            self.check_value(owner["example"], schema_at, owner_at + pointer("example"))
        examples = owner.get("examples")
        if examples is None:
            return
        if named_examples:
            if not isinstance(examples, dict):
                self.problem(owner_at + pointer("examples"), "examples must be a map of Example Objects")
                return
            for name, example in examples.items():
                at = owner_at + pointer("examples", name)
                example, at = self.follow(example, at)
                if isinstance(example, dict) and "value" in example:
                    self.check_value(example["value"], schema_at, at + pointer("value"))
        elif isinstance(examples, list):
            for index, value in enumerate(examples):
                self.check_value(value, schema_at, owner_at + pointer("examples", index))

    def follow(self, node, at):
        """A `$ref` to a component, resolved (one level is all components use here)."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target = self.resolve(node["$ref"])
            if target is None:
                self.problem(at, f"{node['$ref']} does not resolve")
                return None, at
            return target, node["$ref"][1:]
        return node, at

    def resolve(self, reference):
        node = self.document
        for token in reference[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    # The parts of the document

    def schema(self, schema, at):
        for node_at, node in schema_nodes(schema, at):
            self.check_examples_of(node, node_at, node_at, named_examples=False)
            properties = node.get("properties")
            if isinstance(properties, dict):
                for name, prop in properties.items():
                    self.properties[1] += 1
                    if isinstance(prop, dict) and isinstance(prop.get("description"), str) and prop["description"].strip():
                        self.properties[0] += 1
                    else:
                        self.problem(node_at + pointer("properties", name), "property has no description")

    def parameter(self, parameter, at):
        if not isinstance(parameter, dict) or "$ref" in parameter:
            return  # checked where it is defined
        self.parameters[1] += 1
        if isinstance(parameter.get("description"), str) and parameter["description"].strip():
            self.parameters[0] += 1
        else:
            self.problem(at, f"parameter '{parameter.get('name')}' has no description")
        if isinstance(parameter.get("schema"), dict):
            self.schema(parameter["schema"], at + pointer("schema"))
            self.check_examples_of(parameter, at, at + pointer("schema"), named_examples=True)
        if isinstance(parameter.get("content"), dict):
            self.content(parameter["content"], at + pointer("content"), needs_example=False)

    def header(self, header, at):
        if not isinstance(header, dict) or "$ref" in header:
            return
        if isinstance(header.get("schema"), dict):
            self.schema(header["schema"], at + pointer("schema"))
            self.check_examples_of(header, at, at + pointer("schema"), named_examples=True)

    def content(self, content, at, needs_example):
        for media_type, media in content.items():
            media_at = at + pointer(media_type)
            if not isinstance(media, dict):
                continue
            if needs_example and is_json_media_type(media_type):
                self.bodies[1] += 1
                if "example" in media or media.get("examples"):
                    self.bodies[0] += 1
                else:
                    self.problem(media_at, "JSON body has no example")
            if isinstance(media.get("schema"), dict):
                self.schema(media["schema"], media_at + pointer("schema"))
                self.check_examples_of(media, media_at, media_at + pointer("schema"), named_examples=True)
            elif "example" in media or "examples" in media:
                self.problem(media_at, "example without a schema to check it against")

    def request_body(self, body, at):
        if not isinstance(body, dict) or "$ref" in body:
            return
        if isinstance(body.get("content"), dict):
            self.content(body["content"], at + pointer("content"), needs_example=True)

    def response(self, response, at):
        if not isinstance(response, dict) or "$ref" in response:
            return
        for name, header in (response.get("headers") or {}).items():
            self.header(header, at + pointer("headers", name))
        if isinstance(response.get("content"), dict):
            self.content(response["content"], at + pointer("content"), needs_example=True)

    def operation(self, operation, at):
        self.operations[1] += 1
        if isinstance(operation.get("description"), str) and operation["description"].strip():
            self.operations[0] += 1
        else:
            self.problem(at, f"operation {operation.get('operationId', '')} has no description".replace("  ", " "))
        for index, parameter in enumerate(operation.get("parameters") or []):
            self.parameter(parameter, at + pointer("parameters", index))
        if "requestBody" in operation:
            self.request_body(operation["requestBody"], at + pointer("requestBody"))
        for status, response in (operation.get("responses") or {}).items():
            self.response(response, at + pointer("responses", status))

    def check(self):
        for path, item in (self.document.get("paths") or {}).items():
            if not isinstance(item, dict):
                continue
            item_at = pointer("paths", path)
            for index, parameter in enumerate(item.get("parameters") or []):
                self.parameter(parameter, item_at + pointer("parameters", index))
            for method in HTTP_METHODS:
                if isinstance(item.get(method), dict):
                    self.operation(item[method], item_at + pointer(method))
        components = self.document.get("components") or {}
        for name, schema in (components.get("schemas") or {}).items():
            self.schema(schema, pointer("components", "schemas", name))
        for name, parameter in (components.get("parameters") or {}).items():
            self.parameter(parameter, pointer("components", "parameters", name))
        for name, header in (components.get("headers") or {}).items():
            self.header(header, pointer("components", "headers", name))
        for name, body in (components.get("requestBodies") or {}).items():
            self.request_body(body, pointer("components", "requestBodies", name))
        for name, response in (components.get("responses") or {}).items():
            self.response(response, pointer("components", "responses", name))


def non_json(value, at):
    """Where YAML read something JSON has no word for (an unquoted date or timestamp is a date
    object, not the string the schema expects), and what: (pointer, message), or None."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return at, f"YAML reads {value!s} as a {type(value).__name__}, not a string: quote it"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return at, f"the member name {key!r} is not a string: quote it"
            found = non_json(item, at + "/" + escape(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = non_json(item, f"{at}/{index}")
            if found:
                return found
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return at, f"{value} is not a JSON number"
    return None


def spec_problems(document):
    """The document's own validity (openapi-spec-validator, OpenAPI 3.1)."""
    problems = []
    try:
        for error in OpenAPIV31SpecValidator(document).iter_errors():
            at = "".join("/" + escape(p) for p in getattr(error, "absolute_path", []) or [])
            message = str(error.message).strip().splitlines()[0]
            problems.append((at or "/", f"not a valid OpenAPI 3.1 document: {message}"))
    except Exception as error:  # the validator itself gave up
        problems.append(("/", f"not a valid OpenAPI 3.1 document: {error}"))
    return problems


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8") as file:
            document = yaml.safe_load(file)
    except (OSError, yaml.YAMLError) as error:
        print(f"{argv[1]}: cannot be read: {error}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print(f"{argv[1]}: not an OpenAPI document", file=sys.stderr)
        return 2
    contract = Contract(document)
    contract.problems.extend(spec_problems(document))
    contract.check()
    for at, message in contract.problems:
        print(f"{at}: {message}")
    print(
        f"examples: {contract.examples_checked} checked, {contract.examples_invalid} invalid; "
        f"operations described: {contract.operations[0]}/{contract.operations[1]}; "
        f"properties described: {contract.properties[0]}/{contract.properties[1]}; "
        f"parameters described: {contract.parameters[0]}/{contract.parameters[1]}; "
        f"JSON bodies with an example: {contract.bodies[0]}/{contract.bodies[1]}")
    return 1 if contract.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
