"""`python -m bench.stored_tables OUT [N=1000] [WORKERS=1]`: ingest the first N bench
documents into a fresh copy of the bench's reference and write every stored table (rows
sorted, timestamps left out, the corpus folder's path made relative) to OUT, so that two
versions of the code can be compared byte for byte (`cmp`) over the same corpus."""

from __future__ import annotations

import json
import sys
import zlib

from gazetteer.pipeline import open_engine, run

from .common import fresh_copy, reference_db, settings_for
from .ingest_cpu import _corpus

TABLES = ("documents", "entities", "mentions", "aliases", "co_mentions", "export_rows",
          "search_pending", "entities_fts", "documents_fts")
TIMESTAMPS = {"updated_at", "ingested_at", "created_at", "at", "first_seen_at"}


def main() -> None:
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    reference = reference_db()
    folder = _corpus(reference)
    db_name = f"tables-{zlib.crc32(out.encode())}.db"
    engine = open_engine(settings_for(fresh_copy(reference, db_name), workers=workers))
    report = run(engine, sorted(folder.glob("*.txt"))[:count])
    db = engine.db
    with open(out, "w", encoding="utf-8") as f:
        for table in TABLES:
            columns = [c.name for c in db[table].columns if c.name not in TIMESTAMPS]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = [json.dumps(row, default=str, ensure_ascii=False).replace(str(folder), ".")
                    for row in db.execute(f"SELECT {quoted} FROM {table}").fetchall()]
            f.write(f"## {table} {len(rows)} rows\n")
            f.writelines(row + "\n" for row in sorted(rows))
    print(f"{len(report.added)} documents added; tables written to {out}")
    db.conn.close()


if __name__ == "__main__":
    main()
