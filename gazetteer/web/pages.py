"""Pages that lead to the sources: an entity (/entities/<id>) with its map, names, related
entities and every mention's sentence, document and original URL; a document
(/documents/<id>) with each mention highlighted and linked to its entity; the document list.
OpenRefine opens /entities/<id> from a reconciled cell (and ?embed=1 in its hover box).

Entities the reports never mentioned still have a page: a GeoNames place or a registry group
that reconciliation offered is shown from the reference gazetteer or the registry. A merged id
redirects (308) to the survivor; a rejected one shows its rejection and history, to undo it.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from .. import store
from ..errors import NotFound
from .names import country_name, region_name
from .params import checked_id, int_arg
from .services import get_db, services, settings

bp = Blueprint("pages", __name__)
MENTIONS_PER_PAGE = 50


@bp.get("/entities/<entity_id>")
def entity_page(entity_id: str):
    entity_id = checked_id(entity_id)
    db = get_db()
    survivor = store.merged_into(db, entity_id)
    if survivor is not None:
        query = request.query_string.decode("ascii", "replace")
        moved = redirect(url_for("pages.entity_page", entity_id=survivor)
                         + (f"?{query}" if query else ""), 308)
        moved.headers["Cache-Control"] = "no-cache"  # a merge can be undone: browsers re-ask
        return moved
    embed = request.args.get("embed") == "1"
    page = _page_arg()
    view = (_stored(db, entity_id, page) or _rejected(db, entity_id)
            or _reference(db, entity_id) or _registry(entity_id))
    if view is None:
        raise NotFound(f"no entity with id {entity_id!r}")
    view["curate_config"] = _curate_config(entity_id)
    return render_template("entity.html", e=view, embed=embed)


def _page_arg() -> int:
    return int_arg("page", 0, 0, 100_000)


def _curate_config(entity_id: str) -> dict:
    return {"entity": url_for("api.get_entity", entity_id=entity_id),
            "merge": url_for("api.merge_entity", entity_id=entity_id),
            "reject": url_for("curation.reject_entity", entity_id=entity_id),
            "undo": url_for("curation.undo", curation_id="ID"),
            "mention": url_for("curation.repoint_mention", mention_id="ID"),
            "static": url_for("static", filename="")}


def _base_view(entity_id: str, name: str, kind: str) -> dict:
    return {"id": entity_id, "name": name, "kind": kind, "kind_name": _kind_name(kind),
            "lat": None, "lon": None, "approximate": False, "facts": [], "aliases": [],
            "related": [], "mentions": None, "history": [], "stored": False, "source": None,
            "rejected": None, "reject_reasons": store.REJECT_REASONS}


def _stored(db, entity_id: str, page: int) -> dict | None:
    try:
        row = store.get_entity(db, entity_id)
    except NotFound:
        return None
    view = _base_view(entity_id, row["name"], row["kind"])
    counts = store.entity_counts(db, entity_id)
    facts = _place_facts(row) if row["kind"] == "place" else _group_facts(db, row["attrs"])
    facts.append(("In the reports", f"{counts['mentions']} mention(s) in "
                                    f"{counts['documents']} document(s)", None))
    mentions, total = store.entity_sources(db, entity_id, MENTIONS_PER_PAGE,
                                           page * MENTIONS_PER_PAGE)
    view.update(lat=row["lat"], lon=row["lon"], approximate=_approximate(row), facts=facts,
                aliases=store.entity_aliases(db, entity_id), stored=True,
                related=store.neighbours(db, entity_id, limit=30),
                mentions=[_mention_view(m) for m in mentions], mentions_total=total,
                page=page, more=(page + 1) * MENTIONS_PER_PAGE < total,
                history=store.curation_log(db, entity_id))
    return view


def _rejected(db, entity_id: str) -> dict | None:
    rejection = store.rejection(db, entity_id)
    if rejection is None:
        return None
    log = store.curation_log(db, entity_id)
    name = next((_payload_name(c["payload"]) for c in reversed(log)
                 if c["action"] == "reject"), entity_id)
    view = _base_view(entity_id, name, "place" if not entity_id.startswith("ag-") else
                      "armed_group")
    view.update(rejected=rejection, history=log, kind_name="Rejected entity")
    return view


def _payload_name(payload: str) -> str:
    import json

    return json.loads(payload).get("name") or "?"


def _mention_view(m: dict) -> dict:
    """The sentence split around the mention's text, to highlight it."""
    sentence = m.get("sentence") or m["text"]
    at = sentence.find(m["text"])
    if at < 0:
        sentence, at = m["text"], 0
    url = m.get("url") or (m["source"] if (m.get("source") or "").startswith(("http://",
                                                                              "https://"))
                           else None)
    return {**m, "before": sentence[:at], "name": m["text"],
            "after": sentence[at + len(m["text"]):], "url": url}


def _approximate(row: dict) -> bool:
    return (row.get("status") == "approximate" or (row.get("precision") or 1) > 1
            or (row.get("confidence") or 0) < 0.5)


def _reference(db, entity_id: str) -> dict | None:
    row = store.ref_place(db, entity_id)
    if row is None:
        return None
    view = _base_view(entity_id, row["name"], "place")
    view.update(lat=row["lat"], lon=row["lon"], facts=_place_facts(row),
                aliases=[{"name": n, "source": "reference"}
                         for n in store.ref_names_for(db, entity_id, 30)],
                source="reference gazetteer (not mentioned in the reports)")
    return view


def _registry(entity_id: str) -> dict | None:
    registry = services().registry()
    group_id = entity_id.removeprefix("ag-")
    if not entity_id.startswith("ag-") or group_id not in registry.groups:
        return None
    group = registry.groups[group_id]
    view = _base_view(entity_id, group["name"], "armed_group")
    view.update(facts=_group_facts(get_db(), group),
                aliases=[{"name": n, "source": "registry"} for n in registry.names(group_id)],
                source="armed-group registry (not mentioned in the reports)")
    return view


def _place_facts(row: dict) -> list[tuple[str, str, str | None]]:
    facts: list[tuple[str, str, str | None]] = []
    if row.get("lat") is not None:
        facts.append(("Coordinates", f"{row['lat']:.5f}, {row['lon']:.5f}", None))
    country = country_name(row.get("country"))
    if country:
        facts.append(("Country", country, None))
    region = region_name(settings().data_dir, row.get("country"), row.get("admin1"))
    if region:
        facts.append(("Region", region, None))
    for label, key in (("Feature", "feature"), ("GeoNames id", "geonameid"),
                       ("Population", "population"), ("Precision", "precision"),
                       ("Confidence", "confidence"), ("Status", "status"),
                       ("Why here", "reason")):
        if row.get(key) not in (None, ""):
            facts.append((label, str(row[key]), None))
    return facts


def _group_facts(db, attrs: dict) -> list[tuple[str, str, str | None]]:
    facts: list[tuple[str, str, str | None]] = []
    for label, key in (("Type", "type"), ("Part of", "parent"), ("Affiliation", "affiliation"),
                       ("Country", "country"), ("Active", "active")):
        value = attrs.get(key)
        if not value:
            continue
        if key == "parent":
            facts.append((label, _entity_name(db, str(value)),
                           url_for("pages.entity_page", entity_id=str(value))))
        elif key == "country":
            facts.append((label, country_name(str(value)) or str(value), None))
        else:
            facts.append((label, str(value), None))
    return facts


def _entity_name(db, entity_id: str) -> str:
    """A linked entity's name: stored, else the registry's, else its id."""
    stored = store.entity_names(db, [entity_id])
    if entity_id in stored:
        return stored[entity_id]
    group = services().registry().groups.get(entity_id.removeprefix("ag-"))
    return group["name"] if group else entity_id


def _kind_name(kind: str) -> str:
    return "Place" if kind == "place" else "Armed group"


# ---- documents ------------------------------------------------------------------------------

@bp.get("/documents")
def documents_page():
    page = _page_arg()
    items, total = store.list_documents(get_db(), MENTIONS_PER_PAGE, page * MENTIONS_PER_PAGE)
    return render_template("documents.html", items=items, total=total, page=page,
                           more=(page + 1) * MENTIONS_PER_PAGE < total, embed=False)


@bp.get("/documents/<document_id>")
def document_page(document_id: str):
    db = get_db()
    doc = store.get_document(db, checked_id(document_id))
    meta = store.document_meta(db, document_id)
    view = {"title": doc["title"], "facts": _document_facts(doc, meta),
            "segments": segments(doc["text"], store.document_mentions(db, document_id))}
    return render_template("document.html", d=view, embed=False)


def _document_facts(doc: dict, meta: dict) -> list[tuple[str, str, str | None]]:
    url = meta.get("url") or (doc["source"] if str(doc["source"]).startswith(("http://",
                                                                              "https://"))
                              else None)
    facts: list[tuple[str, str, str | None]] = []
    if url:
        facts.append(("Original", url, url))
    for label, value in (("Published", meta.get("published")), ("Site", meta.get("site_name")),
                         ("Author", meta.get("author")), ("Read from", doc["source"]),
                         ("Characters", doc["chars"]), ("Stored", doc["ingested_at"]),
                         ("Id", doc["id"])):
        if value not in (None, ""):
            facts.append((label, str(value), None))
    return facts


def segments(text: str, mentions: list[dict]) -> list[tuple[str, dict | None]]:
    """The text cut into plain runs and mentions (overlaps skipped), as displaCy shows it."""
    out: list[tuple[str, dict | None]] = []
    at = 0
    for m in sorted(mentions, key=lambda m: (m["start"], -m["end"])):
        if m["start"] < at or m["end"] > len(text):
            continue
        if m["start"] > at:
            out.append((text[at:m["start"]], None))
        out.append((text[m["start"]:m["end"]], {**m, "kind_name": _kind_name(m["kind"])}))
        at = m["end"]
    out.append((text[at:], None))
    return out
