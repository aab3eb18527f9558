"""The map's points answer is bounded by the view, whatever the zoom a client asks for: a
whole-world bbox at zoom 22 is clustered on a coarser grid instead of handing out every place."""

import random

from gazetteer import store
from gazetteer.store.map import MAX_CELLS_ACROSS


def test_a_whole_world_view_at_any_zoom_is_bounded_and_counts_every_place(tmp_path):
    db = store.open_db(tmp_path / "many.db")
    rng = random.Random(7)
    places = 6000
    rows = [(f"gn-{8_000_000 + i}", "place", f"Place {i}", rng.uniform(-60, 70),
             rng.uniform(-180, 180), "resolved") for i in range(places)]
    with store.transaction(db):
        db.conn.executemany("INSERT INTO entities (id, kind, name, lat, lon, status) "
                            "VALUES (?,?,?,?,?,?)", rows)
    world = (-180.0, -90.0, 180.0, 90.0)
    for zoom in (2, 12, 22):
        view = store.map_view(db, store.MapView(world, zoom))
        shown = len(view["clusters"]) + len(view["points"])
        assert view["total"] == places
        assert shown <= (MAX_CELLS_ACROSS + 1) ** 2 < places
        assert sum(c["count"] for c in view["clusters"]) + len(view["points"]) == places
    # a viewport of a city at zoom 12 is not coarsened: the grid is the zoom's own
    small = (36.0, 35.0, 36.2, 35.2)
    inside = sum(1 for r in rows if 35.0 <= r[3] <= 35.2 and 36.0 <= r[4] <= 36.2)
    view = store.map_view(db, store.MapView(small, 12))
    assert view["total"] == inside and len(view["points"]) == inside  # few: every one shown
