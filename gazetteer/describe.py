"""What the database file means, as Datasette metadata: titles, column descriptions, the
licence and attribution of the sources, full-text search on the views and the map columns.

`gazetteer datasette-metadata > metadata.json` then `datasette gazetteer.db -m metadata.json`.
"""

from __future__ import annotations

from pathlib import Path

from .reference import SOURCES

_ENTITY_COLUMNS = {
    "id": "gn-<GeoNames id>, sup-<slug> (our supplement), ag-<slug> (armed-group registry), "
          "place-x-/group-x- (names nobody knew)",
    "name": "preferred name (a curator's choice wins)",
    "aliases": "every spelling seen in the reports or known to the gazetteer, ' | '-separated",
    "mentions": "number of mentions in the documents",
    "documents": "number of documents that mention it",
}
_PLACE_COLUMNS = {
    **_ENTITY_COLUMNS,
    "latitude": "WGS84 latitude (null when the place could not be located)",
    "longitude": "WGS84 longitude",
    "geonameid": "GeoNames id (https://www.geonames.org/<id>)",
    "country": "ISO 3166-1 alpha-2 country code",
    "admin1": "GeoNames first-level division code",
    "feature": "city, village, admin1, country, region, site, ...",
    "precision": "1 = the place's own point, 2 = approximate, 3 = the centre of a region, "
                 "country or road",
    "confidence": "0-1: how sure the geocoder is of this reading",
    "status": "resolved, approximate or unresolved (kept, not dropped)",
    "reason": "why this reading was chosen over the others",
    "geocoder": "offline, nominatim or manual",
}
_GROUP_COLUMNS = {
    **_ENTITY_COLUMNS,
    "type": "jihadist, islamist-rebel, rebel, militia, state-force, ...",
    "parent": "the group it belongs to, if any",
    "affiliation": "alliances and history, from the curated registry",
}


def datasette_metadata(database: Path | str) -> dict:
    """Datasette metadata for a gazetteer database file."""
    name = Path(database).stem
    attribution = "; ".join(s["attribution"] for s in SOURCES)
    return {
        "title": "gazetteer: places and armed groups in the reports",
        "description": "Every place and armed group mentioned in the ingested reports, with "
                       "offsets, normalised names and coordinates. See the sources table.",
        "license": "GeoNames data: CC BY 4.0; gazetteer data: MIT",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
        "source": attribution,
        "source_url": "https://www.geonames.org/",
        "databases": {name: {"tables": {
            "places": {"description": "One row per place: open the map with the "
                                      "latitude/longitude columns; search any spelling.",
                       "fts_table": "entities_fts", "fts_pk": "rowid",
                       "columns": _PLACE_COLUMNS, "sort_desc": "mentions"},
            "armed_groups": {"description": "One row per armed group; search any spelling.",
                             "fts_table": "entities_fts", "fts_pk": "rowid",
                             "columns": _GROUP_COLUMNS, "sort_desc": "mentions"},
            "entities": {"description": "Places and armed groups as stored (lat/lon, JSON "
                                        "attrs, curated fields)."},
            "aliases": {"description": "Every name of every entity, with its source "
                                       "(observed, registry, geonames, supplement, manual)."},
            "mentions": {"description": "Each mention: document, character offsets, "
                                        "sentence, how it was found and resolved."},
            "documents": {"description": "The ingested reports, stored once by content hash."},
            "sources": {"description": "Where the reference data comes from, its licence "
                                       "and the attribution it requires."},
            "ref_places": {"description": "The reference gazetteer (GeoNames cities500, "
                                          "countries, our supplement)."},
            "ref_names": {"description": "Every name of every reference place, with its "
                                         "folded key (the normalisation key)."},
            "curations": {"description": "Who changed what, when (PATCH and merge)."},
            "merges": {"description": "Entities merged away, and the entity they now are."},
        }}},
    }
