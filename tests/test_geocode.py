"""Geocoding: the geopy geocoder over our gazetteer, context, and the online edge (faked)."""

import pytest
from geopy.exc import GeocoderTimedOut
from geopy.location import Location

from gazetteer.errors import GeocoderUnavailable
from gazetteer.geocode import CachedOnlineGeocoder, OfflineGeocoder, distance_km
from gazetteer.pipeline import analyse
from gazetteer.types import Document, Point


def test_offline_geocoder_is_a_geopy_geocoder(engine):
    location = OfflineGeocoder(engine.resolver).geocode("Jesr al-Shughour")
    assert isinstance(location, Location)
    assert distance_km(Point(location.longitude, location.latitude), Point(36.3176, 35.8126)) < 10
    assert location.raw["geonameid"] == 169023 and location.raw["reason"]


def test_offline_geocoder_filters_by_country(engine):
    geocoder = OfflineGeocoder(engine.resolver)
    assert geocoder.geocode("Tripoli", country_codes="LB").raw["country"] == "LB"
    assert geocoder.geocode("Tripoli", country_codes=["LY"]).raw["country"] == "LY"


def place_of(engine, text, name):
    ((_, mentions, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    ids = {m.entity_id for m in mentions if m.text == name}
    (entity,) = [e for e in entities if e.id in ids]
    return entity.place


def test_document_context_picks_the_right_tripoli(engine):
    levant = place_of(engine, "Fighters moved from Homs and Tartus to Tripoli, near Beirut.", "Tripoli")
    libya = place_of(engine, "Militias in Benghazi and Misrata fought for Tripoli.", "Tripoli")
    assert (levant.country, libya.country) == ("LB", "LY")
    assert "km from the nearest sure place" in levant.reason


def test_province_prefers_the_governorate(engine):
    assert place_of(engine, "Rebels attacked Idlib province.", "Idlib province").feature == "admin1"
    assert place_of(engine, "Rebels attacked Idlib.", "Idlib").feature == "city"


def test_unknown_place_is_kept_near_the_enclosing_place(engine):
    place = place_of(engine, "The village of Zurzurabad near Jisr al-Shughour was shelled.",
                     "Zurzurabad")
    assert place.status == "approximate" and place.precision == 2 and place.confidence < 0.5


class FakeNominatim:
    """The network edge: answers like geopy's Nominatim, counting the calls."""

    def __init__(self, fail=False):
        self.calls, self.fail = 0, fail

    def geocode(self, query, exactly_one=True):
        self.calls += 1
        if self.fail:
            raise GeocoderTimedOut("timed out")
        return Location("Somewhere, Syria", (35.0, 37.0), {})


def test_online_geocoder_answers_are_cached_in_sqlite(engine):
    fake = FakeNominatim()
    online = CachedOnlineGeocoder(engine.db, fake, min_delay=0)
    assert online.lookup("Zurzurabad") == {"name": "Somewhere, Syria", "lat": 35.0, "lon": 37.0}
    assert online.lookup("Zurzurabad")["lat"] == 35.0
    assert fake.calls == 1


def test_online_geocoder_errors_do_not_leak_geopy_types(engine):
    online = CachedOnlineGeocoder(engine.db, FakeNominatim(fail=True), min_delay=0)
    with pytest.raises(GeocoderUnavailable):
        online.lookup("Nowhere")
