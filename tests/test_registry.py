"""The world armed-group registry: its size and shape, and how names several groups share
are read (by the document's countries)."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from gazetteer.config import load_settings
from gazetteer.normalise import Registry
from gazetteer.resolve import choose_group
from gazetteer.types import Resolution

REGISTRY = Registry.load(load_settings(environ={}).data_dir)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def test_the_registry_covers_the_worlds_conflicts():
    countries = Counter(c for g in REGISTRY.groups.values() for c in g.get("countries") or [])
    assert len(REGISTRY.groups) >= 600
    assert sum(1 for n in countries.values() if n >= 5) >= 30
    for code in ("SD", "SS", "ET", "SO", "CD", "CF", "MZ", "ML", "BF", "NE", "NG", "YE", "MM",
                 "UA", "AF", "PK", "CO", "MX", "LY", "SY", "IQ"):
        assert countries[code] >= 5, code


@pytest.mark.parametrize("group", sorted(REGISTRY.groups.values(), key=lambda g: g["id"]),
                         ids=lambda g: g["id"])
def test_every_entry_is_complete(group):
    assert SLUG.match(group["id"])
    assert group["name"].strip() and group.get("source")
    assert group.get("parent") is None or group["parent"] in REGISTRY.groups
    assert all(len(code) == 2 and code.isupper() for code in group.get("countries") or [])
    assert all(len(a) >= 2 for a in group.get("acronyms", []))


@pytest.mark.parametrize("acronym, parent", [("ISWAP", "isis"), ("ISKP", "isis"),
                                             ("AQAP", "al-qaeda"), ("JNIM", "al-qaeda")])
def test_branches_are_their_own_entities_with_a_parent(acronym, parent):
    (group_id,) = REGISTRY.by_acronym[acronym]
    assert group_id != parent and REGISTRY.groups[group_id]["parent"] == parent


@pytest.mark.parametrize("acronym, countries, expected_country", [
    ("ADF", {"CD": 3.0, "UG": 1.0}, "CD"),
    ("ADF", {"CM": 2.0}, "CM"),
    ("SNA", {"SO": 2.0}, "SO"),
    ("SNA", {"SY": 4.0, "TR": 1.0}, "SY"),
])
def test_a_shared_acronym_goes_to_the_group_of_the_documents_countries(acronym, countries,
                                                                       expected_country):
    readings = [Resolution("armed_group", g, 1.0, "exact acronym")
                for g in REGISTRY.by_acronym[acronym]]
    chosen = choose_group(readings, REGISTRY, countries)
    assert expected_country in REGISTRY.groups[chosen]["countries"]
