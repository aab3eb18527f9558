"""Property-based: arbitrary text thrown at extract (the pipeline and POST /api/extract) and
arbitrary parameters thrown at every read endpoint, with the real model and database."""

import json
import os
import shutil
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazetteer.pipeline import analyse
from gazetteer.types import KINDS, Document
from gazetteer.web import create_app

from .conftest import make_engine
from .test_api import assert_error
from .test_bad_input import fingerprint

EXAMPLES = int(os.environ.get("GAZETTEER_PROPERTY_EXAMPLES", "100"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Real names and the characters that break parsers, mixed with anything at all.
FRAGMENTS = ["Jisr al-Shughour", "Ahrar ash-Sham", "Idlib", "Daesh", "Kessab", "Liwa ",
             " Brigade", "province", "'s", "al-", "Tell`Aran", "<script>", "\\", "${", "\n\n",
             ". ", "\u2019", "\u0627\u062f\u0644\u0628", "\U0001f600", "\u200f", "\ufeff"]
TEXTS = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=25)),
                 max_size=12).map("".join)


@pytest.fixture(scope="module")
def engine(tmp_path_factory, reference_db, shared_nlp):
    path = tmp_path_factory.mktemp("properties") / "p.db"
    shutil.copy(reference_db, path)
    return make_engine(path, shared_nlp)


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_db, engine):
    path = tmp_path_factory.mktemp("properties-api") / "api.db"
    shutil.copy(seeded_db, path)
    created = create_app({"TESTING": True, "DATABASE": str(path)})
    created.extensions["gazetteer"].use_engine(engine)  # extract stores nothing
    return created, path


def test_extract_never_fails_and_every_mention_points_into_the_text(engine):
    @SETTINGS
    @given(TEXTS)
    def check(text):
        ((_, mentions, entities),) = analyse(engine, [Document("h", text, "h", "h")])
        ids = {e.id for e in entities}
        for m in mentions:
            assert 0 <= m.start < m.end <= len(text) and text[m.start:m.end] == m.text
            assert m.kind in KINDS and m.entity_id in ids and m.text in m.sentence
        starts = [m.start for m in mentions]
        assert starts == sorted(starts)

    check()


def test_the_extract_endpoint_answers_any_text(app):
    client = app[0].test_client()

    @SETTINGS
    @given(TEXTS)
    def check(text):
        response = client.post("/api/extract", json={"text": text})
        if not text.strip():
            assert_error(response, 400)
            return
        assert response.status_code == 200, response.get_data(as_text=True)
        for m in response.get_json()["mentions"]:
            assert text[m["start"]:m["end"]] == m["text"]

    check()


PARAMETER_NAMES = ["limit", "offset", "bbox", "kind", "q", "country", "group", "name"]
VALUES = st.one_of(st.text(max_size=30), st.integers().map(str),
                   st.floats().map(str), st.sampled_from(["", "0", "-1", "1e9", "place",
                                                          "armed_group", "35,35,36,36",
                                                          "NEAR(a b)", "'--", '"', "*"]),
                   st.lists(st.floats(-200, 200).map(str), min_size=3, max_size=5).map(",".join))
PARAMETERS = st.dictionaries(st.one_of(st.sampled_from(PARAMETER_NAMES), st.text(max_size=8)),
                             VALUES, max_size=5)
READ_PATHS = st.one_of(
    st.sampled_from(["/api/entities", "/api/documents", "/api/resolve", "/api/gazetteer.geojson",
                     "/api/gazetteer.csv", "/api/entities/gn-169023",
                     "/api/entities/gn-169023/mentions", "/healthz"]),
    st.text(max_size=40).map(lambda s: "/api/entities/" + quote(s, safe="")),
    st.text(max_size=40).map(lambda s: f"/api/entities/{quote(s, safe='')}/mentions"),
    st.text(max_size=40).map(lambda s: "/api/documents/" + quote(s, safe="./")))


def test_arbitrary_parameters_get_an_answer_never_a_server_error(app):
    client, path = app[0].test_client(), app[1]
    before = fingerprint(path)

    @settings(max_examples=EXAMPLES * 5, deadline=None)
    @given(READ_PATHS, PARAMETERS)
    def check(url, params):
        response = client.get(url, query_string=params)
        assert response.status_code < 500, (url, params, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert_error(response, response.status_code)
        elif response.mimetype.endswith("json"):
            json.loads(response.get_data(as_text=True))
        response.close()

    check()
    assert fingerprint(path) == before
