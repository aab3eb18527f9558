"""Schemathesis against our own /api/openapi.json, served by waitress on 127.0.0.1: every
operation, fed data generated from the description (valid and not), gets no server error and
no response that breaks the description (status, content type, body schema, headers)."""

import json
import os
import shutil
import urllib.request

import pytest
import schemathesis
from schemathesis import checks
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from hypothesis import HealthCheck, settings

from gazetteer.web.openapi import openapi_document

from .conftest import writable_app
from .serving import threaded
from .test_api import AUTH, TOKEN

EXAMPLES = int(os.environ.get("GAZETTEER_SCHEMA_EXAMPLES", "30"))  # per operation


@pytest.fixture(scope="module")
def live_url(tmp_path_factory, seeded_db, shared_nlp):
    """The API with writes enabled over a private copy of the seeded database."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    shutil.copy(seeded_db, path)
    app = writable_app(path, shared_nlp, API_TOKEN=TOKEN, TILES="none")
    with threaded(app) as url:
        yield url


# Loaded when the module is collected, before any server runs (schemathesis' lazy loader,
# from_fixture, does not work with pytest 9); the test below checks that the server serves
# this very document.
schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_served_description_is_the_one_tested(live_url):
    with urllib.request.urlopen(f"{live_url}/api/openapi.json") as response:
        assert json.load(response) == openapi_document()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_conforms_to_the_openapi_description(case, live_url):
    # Every check but "schema-valid request accepted": some of our rules cannot be written
    # in OpenAPI (west <= east in a bbox, an upload must be UTF-8 text, no NUL bytes), so a
    # request can fit the description and still be refused, with a documented 400.
    excluded = [checks.positive_data_acceptance]
    if case.media_type == "text/plain":
        # Any text/plain body is text on the wire: a generated "invalid" value such as null
        # arrives as the word "null", a fine document.
        excluded.append(checks.negative_data_rejection)
    elif case.media_type == "multipart/form-data" and only_scalar_retypes_of_text_parts(case):
        # A multipart part is text on the wire too: a string field "made a number" arrives as
        # the text "3.02e+16", a fine title. (Schemathesis allows for this in query and path
        # parameters, not in form parts.) Other invalid forms are still checked.
        excluded.append(checks.negative_data_rejection)
    case.call_and_validate(base_url=live_url, headers=AUTH, excluded_checks=excluded)


SCALAR_TYPES = {"number", "integer", "boolean", "null"}


def only_scalar_retypes_of_text_parts(case) -> bool:
    """Is every mutation of this generated case a body string's type changed to a scalar?"""
    mutations = getattr(case.meta.phase.data, "mutations", None) if case.meta else None
    return bool(mutations) and all(
        m.operator == OperatorKind.CHANGE_TYPE and m.parameter_location == ParameterLocation.BODY
        and m.original_value == "string" and m.new_value in SCALAR_TYPES
        for m in mutations)
