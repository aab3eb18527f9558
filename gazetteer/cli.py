"""The `gazetteer` command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import Settings, load_settings
from .errors import BadInput, GazetteerError


class Command(click.Group):
    """Turns our errors into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GazetteerError as exc:
            click.echo(f"gazetteer: error: {exc.message}", err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"gazetteer: error: {exc}", err=True)
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
@click.argument("paths", nargs=-1, required=True)
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
def ingest(settings: Settings, paths: tuple[str, ...], workers: int | None,
           scheduler: str | None, shard_size: int | None, shards_dir: Path | None,
           keep_shards: bool) -> None:
    """Ingest files, folders (recursively) or - for standard input."""
    from .ingest import read_stdin
    from .pipeline import Report, ingest_document, run

    workers = workers or settings.workers
    files = [Path(p) for p in paths if p != "-"]
    if files and "-" not in paths and (scheduler or workers > 1):
        cluster = _cluster_module(scheduler)
        if cluster is not None:
            options = cluster.ClusterOptions(workers, scheduler, shard_size or cluster.SHARD_SIZE,
                                             shards_dir, keep_shards)
            report = cluster.ingest_on_dask(settings, files, options)
            _print_report(report)
            if report.skipped and not report.added and not report.unchanged:
                sys.exit(1)
            return
    engine = _engine(_with_workers(settings, workers))
    report = Report()
    if "-" in paths:
        doc = read_stdin(settings.max_document_bytes)
        created, mentions = ingest_document(engine, doc)
        (report.added if created else report.unchanged).append(doc.source)
        report.mentions += len(mentions)
    if files:
        more = run(engine, files)
        report.added += more.added
        report.unchanged += more.unchanged
        report.skipped += more.skipped
        report.mentions += more.mentions
    _print_report(report)
    if report.skipped and not report.added and not report.unchanged:
        sys.exit(1)


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

    rows, total = store.list_entities(store.open_db(settings.database, create=False), kind, q,
                                      limit)
    for row in rows:
        where = f"{row['lat']:.4f},{row['lon']:.4f}" if row["lat"] is not None else "-"
        click.echo(f"{row['id']:<32} {row['kind']:<11} {row['mentions']:>4}  {where:<20} "
                   f"{row['name']}")
    click.echo(f"({len(rows)} of {total})")


@main.command()
@click.argument("fmt", type=click.Choice(["geojson", "csv", "kml"]))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@click.option("--kind", type=click.Choice(["place", "armed_group"]), default="place",
              help="Armed groups have no coordinates: CSV only.")
@click.option("--group", default=None, help="Only entities mentioned alongside this group id.")
@click.option("--country", default=None, help="ISO country code, e.g. SY.")
@click.option("--bbox", default=None, help="west,south,east,north")
@click.pass_obj
def export(settings: Settings, fmt: str, output, kind: str, group: str | None,
           country: str | None, bbox: str | None) -> None:
    """Write the places (or the armed groups) as GeoJSON, CSV or KML."""
    from . import formats, store

    db = store.open_db(settings.database, create=False)
    if group:
        store.get_entity(db, group)
    selection = formats.Selection(kind, group, country, _parse_bbox(bbox))
    write = {"geojson": formats.geojson_chunks, "csv": formats.csv_chunks,
             "kml": formats.kml_chunks}[fmt]
    for chunk in write(db, selection):
        output.write(chunk)


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
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", is_flag=True, help="Also score the spaCy + exact-lookup baseline.")
@click.option("--examples", is_flag=True, help="List misses, false alarms and errors.")
@click.pass_obj
def evaluate(settings: Settings, gold: Path, baseline: bool, examples: bool) -> None:
    """Score extraction, normalisation and geocoding against a gold file."""
    from .evaluate import load_gold, run_eval

    load_gold(gold)  # a bad gold file fails before the model loads
    click.echo(run_eval(_engine(settings), gold, baseline=baseline, examples=examples))


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None) -> None:
    """Serve the API and the map with waitress (building the seed corpus first when the
    database holds no documents)."""
    from dataclasses import replace

    from . import store

    settings = replace(settings, host=host or settings.host, port=port or settings.port)
    if store.count_rows(store.open_db(settings.database), "documents") == 0:
        from .pipeline import run

        click.echo(f"{settings.database} holds no documents: building it from "
                   f"{settings.seeds_dir}")
        _print_report(run(_engine(settings), [settings.seeds_dir]))
    from .web.server import serve as serve_app

    serve_app(settings)


if __name__ == "__main__":  # pragma: no cover
    main()
