"""Settings: one reader of the environment, typed parsing, and the app built from it."""

from __future__ import annotations

import pytest

from gazetteer.config import Settings, load_settings, setting_docs
from gazetteer.errors import BadSetting
from gazetteer.web import create_app


@pytest.mark.parametrize("raw, expected", [
    ("off", False), ("False", False), ("no", False), ("0", False), ("", False),
    ("on", True), ("TRUE", True), ("yes", True), ("1", True), (" Yes ", True),
])
def test_booleans_accept_the_usual_words(raw, expected):
    settings = load_settings(environ={"GAZETTEER_PRIVATE_READS": raw})
    assert settings.private_reads is expected


@pytest.mark.parametrize("raw", ["abc", "null", "2", "offf"])
def test_a_bad_boolean_is_an_error_naming_the_variable(raw):
    with pytest.raises(BadSetting, match="GAZETTEER_PRIVATE_READS"):
        load_settings(environ={"GAZETTEER_PRIVATE_READS": raw})


@pytest.mark.parametrize("raw", ["12345678", "null", "abc", "true", "[1, 2]", "0"])
def test_tokens_are_strings_always(raw):
    settings = load_settings(environ={"GAZETTEER_API_TOKEN": raw})
    assert settings.api_token == raw and isinstance(settings.api_token, str)


def test_numbers_are_parsed_and_checked():
    assert load_settings(environ={"GAZETTEER_PORT": "9000"}).port == 9000
    with pytest.raises(BadSetting, match="GAZETTEER_PORT"):
        load_settings(environ={"GAZETTEER_PORT": "eighty"})


def test_overrides_beat_the_environment_and_none_is_ignored():
    settings = load_settings({"port": 7000, "threads": None},
                             environ={"GAZETTEER_PORT": "9000", "GAZETTEER_THREADS": "3"})
    assert (settings.port, settings.threads) == (7000, 3)


def test_every_setting_has_help_declared_beside_its_default():
    docs = setting_docs()
    assert set(docs) == set(Settings.__dataclass_fields__)
    assert all(len(text) > 10 for text in docs.values())


@pytest.mark.parametrize("raw", ["off", "False", "no"])
def test_private_reads_off_in_the_environment_leaves_reads_open(monkeypatch, seeded_copy, raw):
    monkeypatch.setenv("GAZETTEER_PRIVATE_READS", raw)
    client = create_app({"DATABASE": str(seeded_copy)}).test_client()
    assert client.get("/api/entities?limit=1").status_code == 200


def test_a_numeric_token_from_the_environment_authorises_writes(monkeypatch, seeded_copy):
    monkeypatch.setenv("GAZETTEER_API_TOKEN", "12345678")
    client = create_app({"DATABASE": str(seeded_copy)}).test_client()
    denied = client.patch("/api/entities/gn-169023", json={"name": "Jisr"},
                          headers={"Authorization": "Bearer 1234567"})
    allowed = client.patch("/api/entities/gn-169023", json={"name": "Jisr al-Shughur"},
                           headers={"Authorization": "Bearer 12345678"})
    assert (denied.status_code, allowed.status_code) == (401, 200)


def test_the_word_null_is_a_token_not_a_switch(monkeypatch, seeded_copy):
    monkeypatch.setenv("GAZETTEER_API_TOKEN", "null")
    client = create_app({"DATABASE": str(seeded_copy)}).test_client()
    response = client.patch("/api/entities/gn-169023", json={"name": "Jisr al-Shughur"},
                            headers={"Authorization": "Bearer null"})
    assert response.status_code == 200


def test_flask_config_is_derived_from_the_settings(monkeypatch, seeded_copy):
    monkeypatch.setenv("GAZETTEER_PRIVATE_READS", "off")
    app = create_app({"DATABASE": str(seeded_copy), "TESTING": True})
    assert app.config["PRIVATE_READS"] is False and app.config["TESTING"] is True
    assert app.config["DATABASE"] == seeded_copy
