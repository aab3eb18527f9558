"""Human-readable pages: one entity at /entities/<id>, the page OpenRefine opens from a
reconciled cell (view) and shows in its hover box (preview, ?embed=1).

Entities the reports never mentioned still have a page: a GeoNames place or a registry group
that reconciliation offered is shown from the reference gazetteer or the registry.
"""

from __future__ import annotations

from flask import Blueprint, render_template_string, request

from .. import store
from ..errors import NotFound
from .params import checked_id
from .services import get_db, services

bp = Blueprint("pages", __name__)

# Jinja escapes every value (render_template_string autoescapes), so hostile names stay text.
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ e.name }} · gazetteer</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:{{ '4px' if embed else '2em' }};}
dt{font-weight:600}dd{margin:0 0 .4em 0}</style></head><body>
<h1 style="font-size:{{ '1.1em' if embed else '1.6em' }}">{{ e.name }}</h1>
<p>{{ e.kind_name }} · <code>{{ e.id }}</code>{% if e.source %} · {{ e.source }}{% endif %}</p>
<dl>
{% for label, value in e.facts %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}
{% if e.aliases %}<dt>Also written</dt><dd>{{ e.aliases | join(", ") }}</dd>{% endif %}
</dl>
{% if not embed %}<p><a href="{{ url_for('api.get_entity', entity_id=e.id) }}">JSON</a>
{% if e.stored %} · <a href="{{ url_for('api.entity_mentions', entity_id=e.id) }}">mentions</a>
{% endif %} · <a href="{{ url_for('map.show_map') }}">map</a></p>{% endif %}
</body></html>"""


@bp.get("/entities/<entity_id>")
def entity_page(entity_id: str):
    entity_id = checked_id(entity_id)
    db = get_db()
    view = _stored(db, entity_id) or _reference(db, entity_id) or _registry(entity_id)
    if view is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    return render_template_string(_PAGE, e=view, embed=request.args.get("embed") == "1")


def _stored(db, entity_id: str) -> dict | None:
    try:
        row = store.get_entity(db, entity_id)
    except NotFound:
        return None
    counts = store.entity_counts(db, entity_id)
    facts = _place_facts(row) if row["kind"] == "place" else _group_facts(row["attrs"])
    facts.append(("In the reports", f"{counts['mentions']} mention(s) in "
                                     f"{counts['documents']} document(s)"))
    related = store.neighbours(db, entity_id, limit=10)
    if related:
        facts.append(("Mentioned with", ", ".join(r["name"] for r in related)))
    return {"id": entity_id, "name": row["name"], "kind_name": _kind_name(row["kind"]),
            "facts": facts, "aliases": [a["name"] for a in store.entity_aliases(db, entity_id)],
            "stored": True, "source": None}


def _reference(db, entity_id: str) -> dict | None:
    row = store.ref_place(db, entity_id)
    if row is None:
        return None
    return {"id": entity_id, "name": row["name"], "kind_name": "Place",
            "facts": _place_facts(row), "aliases": store.ref_names_for(db, entity_id, 30),
            "stored": False, "source": "reference gazetteer (not mentioned in the reports)"}


def _registry(entity_id: str) -> dict | None:
    registry = services().registry()
    group_id = entity_id.removeprefix("ag-")
    if not entity_id.startswith("ag-") or group_id not in registry.groups:
        return None
    group = registry.groups[group_id]
    return {"id": entity_id, "name": group["name"], "kind_name": "Armed group",
            "facts": _group_facts(group), "aliases": registry.names(group_id),
            "stored": False, "source": "armed-group registry (not mentioned in the reports)"}


def _place_facts(row: dict) -> list[tuple[str, str]]:
    facts = []
    if row.get("lat") is not None:
        facts.append(("Coordinates", f"{row['lat']:.5f}, {row['lon']:.5f}"))
    for label, key in (("Country", "country"), ("Division", "admin1"), ("Feature", "feature"),
                       ("GeoNames id", "geonameid"), ("Population", "population"),
                       ("Confidence", "confidence"), ("Why", "reason")):
        if row.get(key) not in (None, ""):
            facts.append((label, str(row[key])))
    return facts


def _group_facts(attrs: dict) -> list[tuple[str, str]]:
    return [(label, str(attrs[key])) for label, key in (("Type", "type"), ("Part of", "parent"),
                                                        ("Affiliation", "affiliation"))
            if attrs.get(key)]


def _kind_name(kind: str) -> str:
    return "Place" if kind == "place" else "Armed group"
