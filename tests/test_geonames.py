"""The full GeoNames importer, on small files in the GeoNames format written here."""

import zipfile

import pytest

from gazetteer.errors import BadInput
from gazetteer.geonames import import_dump


def geoname(gid, name, ascii_name, alternates, lat, lon, fclass, fcode, cc, pop):
    cols = [str(gid), name, ascii_name, ",".join(alternates), str(lat), str(lon), fclass, fcode,
            cc, "", "12", "", "", "", str(pop), "", "200", "Asia/Damascus", "2024-01-01"]
    return "\t".join(cols) + "\n"


ROWS = (geoname(9990001, "Zurzurabad", "Zurzurabad", ["Zarzurabad", "Zurzur Abad"], 35.7, 36.2,
                "P", "PPL", "SY", 800)
        + geoname(9990002, "Tall Zurzur", "Tall Zurzur", [], 35.71, 36.21, "T", "HLL", "SY", 0))


def test_import_text_dump_then_resolve(engine, tmp_path):
    path = tmp_path / "SY.txt"
    path.write_text(ROWS, encoding="utf-8")
    assert import_dump(engine.db, path)[0] == 2
    readings = engine.resolver.resolve_place("Zarzurabad")
    assert [r.target for r in readings] == ["gn-9990001"]


def test_import_zip_and_alternate_names_is_idempotent(engine, tmp_path):
    path = tmp_path / "allCountries.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("allCountries.txt", ROWS)
    alternates = tmp_path / "alternateNamesV2.txt"
    alternates.write_text("1\t9990001\ten\tZurzur Town\t1\t\t\t\t\t\n"
                          "2\t9990001\tlink\thttps://example.org/x\t\t\t\t\t\t\n", encoding="utf-8")
    import_dump(engine.db, path, alternates)
    import_dump(engine.db, path, alternates)  # re-importing the same files replaces, not adds
    count = engine.db.execute("SELECT count(*) FROM ref_places WHERE geonameid = 9990001").fetchone()
    assert count[0] == 1
    names = engine.db.execute("SELECT count(*) FROM ref_names WHERE ref_id = 'gn-9990001'")
    assert names.fetchone()[0] == 4  # three spellings from the dump, one alternate name
    assert engine.resolver.resolve_place("Zurzur Town")[0].target == "gn-9990001"
    hill = engine.db.execute("SELECT feature FROM ref_places WHERE geonameid = 9990002").fetchone()
    assert hill[0] == "mountain"


def test_malformed_dump_names_the_line(engine, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(ROWS + "only\ttwo columns\n", encoding="utf-8")
    with pytest.raises(BadInput, match="bad.txt:3"):
        import_dump(engine.db, path)
