"""The README documents every setting and every route, and its commands match CI's."""

from dataclasses import fields
from pathlib import Path

from gazetteer.config import Settings, setting_docs
from gazetteer.web import create_app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    docs = setting_docs()
    for field in fields(Settings):
        assert docs.get(field.name), f"{field.name} has no comment in config.py"
        assert f"GAZETTEER_{field.name.upper()}" in README, field.name


def test_every_route_is_in_the_readme(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "x.db")})
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or str(rule) == "/":
            continue
        path = str(rule).split("<")[0].rstrip("/")
        assert path in README, path


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = next(line for line in ci.splitlines() if "pytest" in line and "pip" in line)
    assert test_command.strip() in README
