"""The SQLite store (through sqlite-utils): every SQL statement of the project lives in this
package, one module per concern; the names below are its whole interface."""

from __future__ import annotations

from .schema import (  # noqa: F401
    close, rollback_open_transaction, BUSY_TIMEOUT_MS, get_meta, now, open_db, SCHEMA_VERSION, set_meta, transaction)
from .schema import (  # noqa: F401
    BATCHED_TRIGGERS, batched_row_triggers, bulk_writes, deferred_search, open_immutable,
    SchemaRetryingConnection)
from .shards import (  # noqa: F401
    copy_reference, first_documents, shard_rows, shard_skipped, write_shard, SHARD_FORMAT)
from .reference import (  # noqa: F401
    cache_geocode, cached_geocode, country_ref_keys, curated_ref_names, delete_curated_ref_names,
    delete_ref_names, delete_ref_source, exact_geonames_place, has_curated_names,
    insert_ref_names, insert_ref_places, matcher_names, new_entity_keys,
    ref_ids_with_geonameid, ref_names_for, ref_place, ref_places_by_key, save_sources,
    use_large_cache)
from .reference import (  # noqa: F401
    curated_ref_places_by_skeleton, ref_names_and_curated, ref_places_by_keys)
from .write import (  # noqa: F401
    add_alias, add_aliases, add_observed_aliases, curations, document_exists, save_batch,
    save_document, save_documents, upsert_entity, write_entities)
from .read import (  # noqa: F401
    count_rows, document_mentions, entities_by_alias_key, entity_aliases, entity_counts,
    entity_mentions, entity_names, fts_query, get_document, get_entity, list_documents,
    list_entities, merged_ids, neighbours, dated_documents)
from .curate import (  # noqa: F401
    curate_entity, curation_log, merge_entities, record_curation)
from .export import (  # noqa: F401
    csv_line, csv_lines, FEATURE_COLUMNS, FORMATS, FORMULA_START, geojson_features,
    GROUP_COLUMNS, iter_mentions, kml_placemarks, render_export_rows)
from .derived import (  # noqa: F401
    refresh_co_mentions, refresh_seen)
from .snapshot import (  # noqa: F401
    backup, open_snapshot, snapshot)
from .replay import (  # noqa: F401
    export_curations, import_curations)
from .health import probe_tables  # noqa: F401
from .revise import (  # noqa: F401
    REJECT_REASONS, reject_entity, rejected_ids, rejection, repoint_mention,
    standing_curations, undo_curation)
from .map import (  # noqa: F401
    MapView, date_range, document_meta, entity_sources, legend_groups, map_view, mention_ids,
    merged_into)
