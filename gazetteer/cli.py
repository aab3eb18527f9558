"""The `gazetteer` command."""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .config import Settings, load_settings
from .errors import BadInput, GazetteerError
from .faults import storage_fault

if TYPE_CHECKING:  # the CLI starts fast: the store is imported by the commands that use it
    import sqlite_utils


class Command(click.Group):
    """Turns our errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GazetteerError as exc:
            click.echo(f"gazetteer: error: {exc.message}", err=True)
            sys.exit(1)
        except (OSError, sqlite3.Error) as exc:
            fault = storage_fault(exc, ctx.obj.database if ctx.obj else "gazetteer.db")
            click.echo(f"gazetteer: error: {fault.message if fault else exc}", err=True)
            sys.exit(1)


@click.group(cls=Command)
@click.option("--db", "database", type=click.Path(path_type=Path), default=None,
              help="SQLite file (default: $GAZETTEER_DATABASE or ./gazetteer.db).")
@click.option("--model", "spacy_model", default=None, help="spaCy model to load.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="spaCy processes for large ingests.")
@click.pass_context
def main(ctx: click.Context, database: Path | None, spacy_model: str | None,
         workers: int | None) -> None:
    """Build a gazetteer of places and armed groups from English reports."""
    ctx.obj = load_settings({"database": database, "spacy_model": spacy_model,
                             "workers": workers})


def _engine(settings: Settings):
    from .pipeline import open_engine

    return open_engine(settings)


@main.command()
@click.option("--force", is_flag=True, help="Rebuild the reference gazetteer too.")
@click.pass_obj
def build(settings: Settings, force: bool) -> None:
    """Ingest the embedded seed corpus into the database."""
    from . import store
    from .pipeline import run
    from .reference import build_reference

    if force:
        build_reference(store.open_db(settings.database), settings.data_dir,
                        settings.min_city_population, force=True)
    report = run(_engine(settings), [settings.seeds_dir])
    _print_report(report)
    _print_counts(settings)


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--urls", "url_list", type=click.Path(path_type=Path), default=None,
              help="A file of URLs to fetch, one a line ('#' starts a comment).")
@click.option("--published", default=None,
              help="Publication date (ISO 8601) for every document of this ingest, "
                   "instead of the dates found in them.")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Dask worker processes on this machine (more than 1: the cluster path).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run on the Dask cluster of this scheduler.")
@click.option("--shard-size", type=click.IntRange(1), default=None,
              help="Documents a Dask task (default 2000).")
@click.option("--shards-dir", type=click.Path(path_type=Path), default=None,
              help="Where shard files go (default: DATABASE.shards/; shared with workers).")
@click.option("--keep-shards", is_flag=True, help="Keep the shard files after the merge.")
@click.pass_obj
def ingest(settings: Settings, paths: tuple[str, ...], url_list: Path | None,
           published: str | None, workers: int | None, scheduler: str | None,
           shard_size: int | None, shards_dir: Path | None, keep_shards: bool) -> None:
    """Ingest files, folders (recursively), http(s) URLs of pages, PDFs or RSS/Atom feeds,
    or - for standard input; files and folders on Dask with --workers N or --scheduler."""
    from .pipeline import run
    from .sources import read_url_list

    if not paths and url_list is None:
        raise click.UsageError("give files, folders, URLs, - or --urls FILE")
    if published is not None:
        _check_published(published)  # before the model loads
    workers = workers or settings.workers
    only_files = url_list is None and published is None and all(
        p != "-" and not p.lower().startswith(("http://", "https://")) for p in paths)
    if only_files and (scheduler or workers > 1):
        cluster = _cluster_module(scheduler)
        if cluster is not None:
            options = cluster.ClusterOptions(workers, scheduler, shard_size or cluster.SHARD_SIZE,
                                             shards_dir, keep_shards)
            report = cluster.ingest_on_dask(settings, [Path(p) for p in paths], options)
            _print_report(report)
            if report.skipped and not report.added and not report.unchanged:
                sys.exit(1)
            return
    elif scheduler:
        raise click.UsageError("--scheduler takes files and folders only (no URLs, -, "
                               "--urls or --published)")
    sources: list = [_stdin_document(settings) if p == "-" else p for p in paths]
    if url_list is not None:
        sources += read_url_list(url_list)
    report = run(_engine(_with_workers(settings, workers)),
                 _dated(settings, sources, published))
    _print_report(report)
    if report.skipped and not report.added and not report.unchanged:
        sys.exit(1)


def _check_published(value: str) -> None:
    from .sources.dates import iso_date_or_datetime

    if iso_date_or_datetime(value) is None:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or datetime",
                                 param_hint="--published")


def _stdin_document(settings: Settings):
    """Standard input's Document, or its Skipped when it cannot be read."""
    from .errors import DocumentTooLarge, UnreadableDocument
    from .sources import Skipped, read_stdin

    try:
        return read_stdin(settings.max_document_bytes, settings.raw_html_text)
    except (UnreadableDocument, DocumentTooLarge) as exc:
        return Skipped("<stdin>", exc.message.split(": ", 1)[-1])


def _dated(settings: Settings, sources: list, published: str | None):
    """The sources, or their documents each with the given publication date."""
    from .pipeline import read
    from .sources import with_published
    from .types import Document

    if published is None:
        yield from sources
        return
    for item in read(settings, sources):
        yield with_published(item, published) if isinstance(item, Document) else item


def _cluster_module(scheduler: str | None):
    """gazetteer.cluster, or None (with a note) when Dask is not installed and the fork pool
    of processes can stand in; a scheduler address without Dask is an error."""
    try:
        from . import cluster
    except ImportError as exc:
        if scheduler:
            raise BadInput(f"--scheduler needs Dask ({exc.name} is not installed): "
                           "pip install 'gazetteer[cluster]'") from exc
        click.echo("gazetteer: Dask is not installed (pip install 'gazetteer[cluster]'); "
                   "using forked processes on this machine instead", err=True)
        return None
    return cluster


def _with_workers(settings: Settings, workers: int) -> Settings:
    from dataclasses import replace

    return replace(settings, workers=workers)


def _print_report(report) -> None:
    click.echo(f"added {len(report.added)} document(s), {report.mentions} mention(s); "
               f"{len(report.unchanged)} already stored; {len(report.skipped)} skipped")
    for skipped in report.skipped:
        click.echo(f"skipped {skipped.source}: {skipped.reason}", err=True)


def _print_counts(settings: Settings) -> None:
    from . import store

    db = store.open_db(settings.database)
    counts = {t: store.count_rows(db, t) for t in ("documents", "entities", "mentions")}
    click.echo(f"{settings.database}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.command()
@click.argument("files", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl"]), default="jsonl")
@click.pass_obj
def extract(settings: Settings, files: tuple[str, ...], fmt: str) -> None:
    """Print the mentions in FILES (or stdin), storing nothing."""
    from .formats import extract_result
    from .ingest import read_file, read_stdin
    from .pipeline import analyse

    docs = [read_stdin(settings.max_document_bytes) if f == "-" else
            read_file(Path(f), settings.max_document_bytes) for f in (files or ("-",))]
    engine = _engine(settings)  # after reading: bad input fails before the model loads
    results = [extract_result(doc, mentions, entities)
               for doc, mentions, entities in analyse(engine, docs)]
    if fmt == "json":
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        for result in results:
            click.echo(json.dumps(result, ensure_ascii=False))


@main.command()
@click.option("--kind", type=click.Choice(["place", "armed_group"]), default=None)
@click.option("--q", default=None, help="Name or alias, in any spelling.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50)
@click.pass_obj
def entities(settings: Settings, kind: str | None, q: str | None, limit: int) -> None:
    """List entities with their mention counts."""
    from . import store

    rows, total = store.list_entities(_stored_db(settings), kind, q, limit)
    for row in rows:
        where = f"{row['lat']:.4f},{row['lon']:.4f}" if row["lat"] is not None else "-"
        click.echo(f"{row['id']:<32} {row['kind']:<11} {row['mentions']:>4}  {where:<20} "
                   f"{row['name']}")
    click.echo(f"({len(rows)} of {total})")


@main.command()
@click.argument("fmt", type=click.Choice(["geojson", "csv", "kml", "mentions"]))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@click.option("--kind", type=click.Choice(["place", "armed_group"]), default=None,
              help="Armed groups have no coordinates: CSV only. Default: place (mentions: both).")
@click.option("--group", default=None, help="Only entities mentioned alongside this group id.")
@click.option("--country", default=None, help="ISO country code, e.g. SY.")
@click.option("--bbox", default=None, help="west,south,east,north")
@click.option("--since", default=None, help="Only documents published on or after this ISO date.")
@click.option("--until", default=None, help="Only documents published on or before this ISO date.")
@click.option("--entity", default=None, help="mentions: only this entity's.")
@click.option("--as", "mentions_as", type=click.Choice(["csv", "geojson"]), default="csv",
              help="mentions: CSV (every mention) or GeoJSON (mentions of located places).")
@click.pass_obj
def export(settings: Settings, fmt: str, output, kind: str | None, group: str | None,
           country: str | None, bbox: str | None, since: str | None, until: str | None,
           entity: str | None, mentions_as: str) -> None:
    """Write the places (or the armed groups) as GeoJSON, CSV or KML, or every mention
    (who was named where, when, and alongside which groups) as CSV or GeoJSON."""
    from . import formats, store

    db = _stored_db(settings)
    for entity_id in (group, entity):
        if entity_id:
            store.get_entity(db, entity_id)
    filters = asdict(formats.Filters(group=group, country=country, bbox=_parse_bbox(bbox),
                                     since=_parse_date(since, "--since"),
                                     until=_parse_date(until, "--until")))
    if fmt == "mentions":
        mentions = formats.MentionSelection(kind=kind, entity=entity, **filters)
        if mentions_as == "geojson":
            formats.require_located_mentions(mentions)
        chunks = (formats.mentions_geojson_chunks if mentions_as == "geojson"
                  else formats.mentions_csv_chunks)(db, mentions)
    else:
        selection = formats.Selection(kind=kind or "place", **filters)
        write = {"geojson": formats.geojson_chunks, "csv": formats.csv_chunks,
                 "kml": formats.kml_chunks}[fmt]
        chunks = write(db, selection)
    for chunk in chunks:
        output.write(chunk)


def _stored_db(settings: Settings) -> sqlite_utils.Database:
    """The gazetteer's database, which must exist (the commands that read or copy it)."""
    from . import store

    return store.open_db(settings.database, create=False)


def _parse_date(raw: str | None, option: str) -> str | None:
    from .formats import parse_date

    try:
        return parse_date(raw, option) if raw else None
    except BadInput as exc:
        raise click.BadParameter(exc.message, param_hint=option) from None


def _parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    from .formats import parse_bbox

    try:
        return parse_bbox(raw) if raw else None
    except BadInput as exc:
        raise click.BadParameter(exc.message, param_hint="--bbox") from None


@main.command("datasette-metadata")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@click.pass_obj
def datasette_metadata(settings: Settings, output) -> None:
    """Write Datasette metadata for the database (titles, columns, licence, search)."""
    import json

    from .describe import datasette_metadata as describe

    json.dump(describe(settings.database), output, indent=2)
    output.write("\n")


@main.group()
def geonames() -> None:
    """Load a full GeoNames dump."""


@geonames.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--alternate-names", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="alternateNamesV2.txt (or .zip) for more spellings.")
@click.pass_obj
def geonames_import(settings: Settings, path: Path, alternate_names: Path | None) -> None:
    """Import allCountries.txt/.zip or a country file such as SY.txt."""
    from . import store
    from .geonames import import_dump

    db = store.open_db(settings.database)
    places, names = import_dump(db, path, alternate_names)
    click.echo(f"imported {places:,} places and {names:,} names from {path}")


@main.command(name="eval")
@click.argument("gold", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline/--no-baseline", default=True,
              help="Also score the spaCy + exact-lookup baseline (default: on).")
@click.option("--examples", is_flag=True, help="List misses, false alarms and errors.")
@click.pass_obj
def evaluate(settings: Settings, gold: tuple[Path, ...], baseline: bool, examples: bool) -> None:
    """Score extraction, normalisation and geocoding against gold files (default: both
    development sets in tests/data)."""
    from .evaluate import DEVELOPMENT_SETS, load_gold, run_eval

    golds = list(gold) or DEVELOPMENT_SETS
    for path in golds:
        load_gold(path)  # a bad gold file fails before the model loads
    engine = _engine(settings)
    click.echo("\n\n".join(run_eval(engine, path, baseline=baseline, examples=examples)
                           for path in golds))


@main.command()
@click.pass_obj
def registry(settings: Settings) -> None:
    """Summarise the curated registries: armed groups and places, per file and country."""
    from collections import Counter

    from .normalise import Registry

    loaded = Registry.load(settings.data_dir)
    files = sorted((settings.data_dir / "armed_groups").glob("*.json"))
    per_file = {path.stem: len(json.loads(path.read_text("utf-8"))["groups"]) for path in files}
    countries = Counter(c for g in loaded.groups.values() for c in g.get("countries") or [])
    sourced = sum(1 for g in loaded.groups.values() if g.get("source"))
    click.echo(f"{len(loaded.groups)} armed groups in {len(files)} files, "
               f"{sourced} with a source; {len(countries)} countries, "
               f"{sum(1 for n in countries.values() if n >= 5)} with 5 or more groups")
    click.echo("  " + ", ".join(f"{name} {n}" for name, n in per_file.items()))
    click.echo("  " + ", ".join(f"{c} {n}" for c, n in countries.most_common(40)))
    _summarise_places(settings.data_dir)


def _summarise_places(data_dir: Path) -> None:
    from collections import Counter

    from .reference import supplement_files

    per_file = {path.name: json.loads(path.read_text("utf-8")) for path in
                supplement_files(data_dir)}
    places = [p for part in per_file.values() for p in part.get("places", [])]
    spellings = sum(len(a["aliases"]) for part in per_file.values()
                    for a in part.get("geonames_aliases", []))
    countries = Counter(p.get("country") for p in places if p.get("country"))
    features = Counter(p["feature"] for p in places)
    approximate = sum(1 for p in places if str(p.get("source", "")).startswith("approximate"))
    click.echo(f"{len(places)} curated places in {len(per_file)} files ({approximate} marked "
               f"approximate), {len(countries)} countries; {spellings} extra spellings of "
               "GeoNames places")
    click.echo("  " + ", ".join(f"{name} {len(part.get('places', []))}"
                                for name, part in per_file.items()))
    click.echo("  " + ", ".join(f"{f} {n}" for f, n in features.most_common(12)))
    click.echo("  " + ", ".join(f"{c} {n}" for c, n in countries.most_common(40)))


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Server processes (gunicorn; default $GAZETTEER_PROCESSES or 2).")
@click.option("--read-only", "read_only", type=click.Path(path_type=Path), default=None,
              help="Serve this published snapshot (from `gazetteer snapshot`), immutable.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, processes: int | None,
          read_only: Path | None) -> None:
    """Serve the API and the map (gunicorn, or waitress where gunicorn cannot run) with the
    job workers beside it, building the seed corpus first when the database holds no
    documents."""
    from dataclasses import replace

    settings = replace(settings, host=host or settings.host, port=port or settings.port,
                       processes=processes or settings.processes)
    if read_only is not None:
        settings = replace(settings, database=read_only, read_only=True)
    if settings.read_only:
        from . import store

        store.open_snapshot(settings.database).conn.close()  # a bad file fails here, in one line
    else:
        _build_if_empty(settings)
    from .web.server import serve as serve_app

    serve_app(settings)


def _build_if_empty(settings: Settings) -> None:
    from . import store

    if store.count_rows(store.open_db(settings.database), "documents") == 0:
        from .pipeline import run

        click.echo(f"{settings.database} holds no documents: building it from "
                   f"{settings.seeds_dir}")
        _print_report(run(_engine(settings), [settings.seeds_dir]))


@main.command()
@click.option("--workers", "count", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default $GAZETTEER_JOB_WORKERS or 1).")
@click.pass_obj
def worker(settings: Settings, count: int | None) -> None:
    """Run ingest and extract jobs from the queue (for hosts other than the server's)."""
    from .jobs import run_worker

    click.echo(f"gazetteer: job worker for {settings.database}, queue {settings.job_queue}")
    run_worker(settings, count or max(1, settings.job_workers))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def backup(settings: Settings, path: Path) -> None:
    """Copy the database to PATH with SQLite's online backup (safe while serving)."""
    from . import store

    pages = store.backup(_stored_db(settings), path)
    click.echo(f"backed up {settings.database} to {path} ({pages:,} pages, "
               f"{path.stat().st_size:,} bytes)")


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def snapshot(settings: Settings, path: Path) -> None:
    """Write a compact read-only copy to PATH, for `gazetteer serve --read-only PATH`."""
    from . import store

    size = store.snapshot(_stored_db(settings), path)
    click.echo(f"snapshot of {settings.database} in {path} ({size:,} bytes); serve it with "
               f"`gazetteer serve --read-only {path}`")


@main.group()
def curations() -> None:
    """Export every curation, merge and rejection as JSON, or replay them."""


@curations.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@click.pass_obj
def curations_export(settings: Settings, output) -> None:
    """Write the curations as JSON (standard output by default)."""
    from . import store

    json.dump(store.export_curations(_stored_db(settings)), output, ensure_ascii=False, indent=1)
    output.write("\n")


@curations.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.pass_obj
def curations_import(settings: Settings, source) -> None:
    """Replay curations from a file written by `curations export` (or standard input)."""
    from . import store

    try:
        data = json.load(source)
    except ValueError as exc:
        raise BadInput(f"{source.name}: not JSON ({exc})") from None
    result = store.import_curations(_stored_db(settings), data)
    click.echo(f"applied {result['applied']} curation(s); {result['already_present']} "
               f"already present; {len(result['skipped'])} skipped")
    for reason in result["skipped"]:
        click.echo(f"skipped {reason}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
