"""Every theatre: the general rules of extraction, resolution and geocoding, each on a
sentence of the kind reports write, with the real model and the real reference."""

from __future__ import annotations

import pytest

from gazetteer.acronyms import initials_match, long_form_start, looks_like_acronym
from gazetteer.english import all_common_words, is_common_word
from gazetteer.geocode import LINE_REACH, MAX_LISTED, line_of, listed_as_regions
from gazetteer.pipeline import analyse
from gazetteer.types import Document


def mentions(engine, text: str) -> list[tuple[str, str, str, str | None]]:
    """(text, kind, entity id, country of the place) per mention."""
    ((_, found, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    places = {e.id: e.place for e in entities}
    return [(m.text, m.kind, m.entity_id,
             places[m.entity_id].country if places.get(m.entity_id) else None) for m in found]


@pytest.mark.parametrize("acronym, words, start", [
    ("AA", "Arakan Army", 0),
    ("RSF", "the Rapid Support Forces", 1),
    ("TTP", "Tehrik - i - Taliban Pakistan", 0),
    ("JNIM", "Jama'at Nusrat al - Islam wal - Muslimin", 0),
    ("FARDC", "Forces Armées de la République Démocratique du Congo", 0),
    ("TDF", "fighting by Tigray Defense Forces", 2),
    ("ADF", "Allied Democratic Forces", 0),
    ("AA", "Rebels of the Army", None),
    ("FGN", "Northeastern War Front", None),
])
def test_long_forms_are_found_by_their_initials(acronym, words, start):
    assert long_form_start(acronym, words.split()) == start


@pytest.mark.parametrize("word, expected", [("RSF", True), ("M23", True), ("FARDC", True),
                                             ("UN", True), ("The", False), ("Tuesday", False),
                                             ("IS-Sahel", False)])
def test_what_looks_like_an_acronym(word, expected):
    assert looks_like_acronym(word) is expected


def test_initials_leave_no_stray_word():
    assert not initials_match("RSF", "Rapid Support Forces Command".split())


@pytest.mark.parametrize("name, common", [("Some", True), ("West", True), ("Deal", True),
                                          ("White House", True), ("Aleppo", False),
                                          ("Kharkiv", False), ("Freedom Square", True),
                                          ("New York", True)])
def test_ordinary_english_words(name, common):
    assert all_common_words(name) is common
    assert is_common_word(name.split()[0]) or not common


def test_a_defined_acronym_binds_to_its_long_form_for_the_whole_document(engine):
    found = mentions(engine, "Fighting between the Arakan Army (AA) and the junta went on in "
                             "Rakhine State. The AA said it held the town.")
    groups = {(t, e) for t, k, e, _ in found if k == "armed_group"}
    assert groups == {("Arakan Army", "ag-arakan-army"), ("AA", "ag-arakan-army")}
    assert ("Rakhine State", "place", "adm1-mm-16", "MM") in found


def test_an_unknown_defined_group_and_its_acronym_are_one_entity(engine):
    found = mentions(engine, "The Kivu Liberation Front (KLF) raided Walikale. Later the KLF "
                             "withdrew.")
    ids = {e for t, k, e, _ in found if k == "armed_group"}
    assert len(ids) == 1 and ids.pop().startswith("group-x-")
    assert [t for t, k, _, _ in found if k == "armed_group"] == ["Kivu Liberation Front",
                                                                 "KLF", "KLF"]


@pytest.mark.parametrize("text, group", [
    ("ADF fighters killed civilians near Beni in North Kivu province.", "ag-adf-drc"),
    ("Separatists of the ADF attacked Bamenda in Cameroon's North-West Region.",
     "ag-adf-ambazonia"),
    ("The RSF shelled El Fasher in North Darfur and then entered Omdurman.", "ag-rsf-sudan"),
    ("In Cabo Delgado, Rwanda Security Forces (RSF) retook Mocímboa da Praia. The RSF said.",
     "ag-rwanda-security-forces-mozambique"),
])
def test_shared_acronyms_are_read_in_the_documents_theatre(engine, text, group):
    found = [e for t, k, e, _ in mentions(engine, text) if k == "armed_group"]
    assert found and set(found) == {group}


def test_branches_keep_their_own_ids(engine):
    found = mentions(engine, "ISWAP fighters attacked Monguno in Borno State, while JNIM "
                             "struck Djibo in Burkina Faso.")
    groups = [e for _, k, e, _ in found if k == "armed_group"]
    assert groups == ["ag-iswap", "ag-jnim"]
    assert ("Borno State", "place", "adm1-ng-bo", "NG") in found


def test_towns_the_model_misses_are_looked_up_in_their_theatre(engine):
    found = mentions(engine, "Russian forces shelled Vovchansk and Lyptsi in Kharkiv Oblast.")
    assert [(t, c) for t, k, _, c in found if k == "place"] == [
        ("Vovchansk", "UA"), ("Lyptsi", "UA"), ("Kharkiv Oblast", "UA")]


def test_ordinary_words_are_not_towns(engine):
    assert mentions(engine, "Some residents fled. West of the town, Deal was struck.") == []


def test_common_words_need_the_places_own_name(engine):
    found = mentions(engine, "Officials in New York and at the White House met on Monday.")
    assert ("New York", "place", "gn-5128581", "US") in found
    assert all(c != "MA" for *_, c in found)  # not Casablanca, "the white house"


def test_an_unresolved_span_with_a_verb_does_not_hide_places(engine):
    found = mentions(engine, "Jaish al-Islam left Douma for Jarablus on Tuesday.")
    assert [t for t, *_ in found] == ["Jaish al-Islam", "Douma", "Jarablus"]


def test_spans_lose_and_citation_marks_and_modifiers(engine):
    found = mentions(engine, "Government forces fought ISIS and Nusra near Ariha,[66] in "
                             "Idlib. UAE-backed fighters took Ataq.")
    texts = [t for t, *_ in found]
    assert "Nusra" in texts and "and Nusra" not in texts
    assert "Ariha" in texts and "UAE" in texts


def test_nationality_and_military_is_not_a_named_group(engine):
    found = mentions(engine, "The Russian military denied striking Kharkiv.")
    assert [k for _, k, _, _ in found] == ["place"]


def test_a_region_named_as_such_is_the_region(engine):
    found = mentions(engine, "Clashes spread across North Kivu province and Ituri.")
    assert ("North Kivu province", "place", "adm1-cd-nk", "CD") in found


def places_in(engine, text: str) -> list[tuple[str, str | None]]:
    return [(t, c) for t, k, _, c in mentions(engine, text) if k == "place"]


@pytest.mark.parametrize("text, place, country", [
    ("Near Lyptsi, Ukrainian artillery struck Russian positions.", "Lyptsi", "UA"),  # preposition
    ("Militants from Shopian, Umar Majeed from Kulgam, Mohd Hameed Wagey and others.",
     "Kulgam", "IN"),  # a list the model took for one organisation
])
def test_a_span_that_is_no_single_name_hides_nothing(engine, text, place, country):
    assert (place, country) in places_in(engine, text)


def test_headlines_and_datelines_in_capitals_are_looked_up(engine):
    found = places_in(engine, "NORTH WAZIRISTAN/LAKKI MARWAT: Four militants were killed "
                              "in an operation by security forces in Khyber Pakhtunkhwa.")
    assert [c for t, c in found if t in ("NORTH WAZIRISTAN", "LAKKI MARWAT")] == ["PK", "PK"]


@pytest.mark.parametrize("text, places", [
    ("Cameroon Intelligence Report said separatists attacked Bamenda.", ["Bamenda"]),
    ("Turkey launched Operation Claw-Tiger against the PKK in Duhok.", ["Turkey", "Duhok"]),
    ("TNLA spokesperson Lt-Col Tar Aik Kyaw said Lashio had fallen.", ["Lashio"]),
    ("The war took a toll on Syria\u2019s Alawites. The Telegraph said so.", ["Syria"]),
    ("A history of the party by Joost van Dam was published in Beirut.", ["Beirut"]),
    ("Residents in Homs feared government MiG airstrikes.", ["Homs"]),
    ("They shouted that Allah would punish the people of Raqqa.", ["Raqqa"]),
])
def test_a_name_inside_outlets_operations_titles_and_names_is_not_a_place(engine, text,
                                                                          places):
    assert [t for t, _ in places_in(engine, text)] == places


def test_peoples_are_not_places_even_when_they_fold_like_one(engine):
    found = places_in(engine, "The M23 grew out of a Tutsi militia. Clashes between the Lendu "
                              "and the Hema in Ituri spread.")
    assert [t for t, _ in found] == ["Ituri"]  # not Hama, which "Hema" folds like


def test_an_acronym_glued_to_a_dash_is_still_defined(engine):
    found = mentions(engine, "The MNDAA and the Arakan Army (AA)\u2014the three members of the "
                             "alliance\u2014advanced. The AA took Paletwa.")
    groups = [e for t, k, e, _ in found if t in ("Arakan Army", "AA")]
    assert len(groups) == 3 and len(set(groups)) == 1


@pytest.mark.parametrize("text, name, feature", [
    ("Rebels attacked ten villages in Latakia last week.", "Latakia", "admin1"),
    ("ISIS gains in Homs and Hama provinces alarmed Damascus.", "Homs", "admin1"),
    ("The bodies were shown in the Khaled ibn al-Waleed mosque in Homs.", "Homs", "city"),
])
def test_a_bare_name_is_the_region_only_when_the_words_before_say_so(engine, text, name,
                                                                      feature):
    ((_, found, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    by_id = {e.id: e for e in entities}
    chosen = [by_id[m.entity_id].place for m in found if m.text == name]
    assert chosen and chosen[0] is not None and chosen[0].feature == feature


def test_a_spelling_guess_is_no_place_far_from_the_theatre():
    from gazetteer.geocode import DocumentContext, _far_from_theatre
    from gazetteer.types import Point, Resolution

    context = DocumentContext({"ET": 4.0}, [Point(39.47, 13.5)])  # Mekele
    angola = {"country": "AO", "feature": "country", "population": 30_000_000,
              "lat": -12.5, "lon": 18.5}
    def written_so() -> bool:
        return True

    assert _far_from_theatre(Resolution("place", "gn-3351879", 0.77, "fuzzy 91 ~ 'angula'",
                                        found_by="fuzzy"), angola, context, written_so)
    assert not _far_from_theatre(Resolution("place", "gn-3351879", 0.9, "folded key"),
                                 angola, context, written_so)
    town = {"country": "AU", "feature": "city", "population": 516, "lat": -28.5, "lon": 115.5}
    alone = DocumentContext({"NG": 4.0}, [Point(115.5, -28.5)])  # its own point, nothing else
    assert _far_from_theatre(Resolution("place", "gn-2065390", 0.9, "folded key"), town, alone,
                             written_so)
    # a world city abroad is exempt only when the span is one of its names
    samara = {"country": "RU", "feature": "city", "population": 1_163_399, "lat": 53.2,
              "lon": 50.15}
    key = Resolution("place", "gn-499099", 0.9, "folded key")
    assert not _far_from_theatre(key, samara, context, written_so)
    assert _far_from_theatre(key, samara, context, lambda: False)


def test_a_direction_alone_is_no_region_but_the_region_by_its_type_word_is(engine):
    """"the West" is not Cameroon's West Region; "West Region" in a Cameroon report is, and
    so are the hyphened "North-West" and "South-West" the model does not tag."""
    west = mentions(engine, "The failure of the West to help the Syrian people in Aleppo "
                            "has greatly contributed.")
    assert [t for t, k, _, _ in west if k == "place"] == ["Aleppo"]
    cameroon = mentions(engine, "Fighting in the West Region of Cameroon near Bafoussam went "
                                "on. Separatists in the North-West and South-West regions "
                                "attacked Bamenda.")
    regions = {t.split()[0]: e for t, k, e, _ in cameroon if e.startswith("adm1-")}
    assert regions == {"West": "adm1-cm-ou", "North-West": "adm1-cm-nw",
                       "South-West": "adm1-cm-sw"}


def located(engine, text: str) -> dict[str, tuple[str | None, tuple[float, float] | None]]:
    """name -> (country, (lat, lon)) of each place mention, the last one of a name winning."""
    ((_, found, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    places = {e.id: e.place for e in entities}
    return {m.text: (places[m.entity_id].country,
                     (places[m.entity_id].point.lat, places[m.entity_id].point.lon)
                     if places[m.entity_id].point else None)
            for m in found if m.kind == "place" and places.get(m.entity_id)}


def test_a_unit_word_keeps_the_name_in_its_country(engine):
    """A kebele is Ethiopian: not Sudan's Kassala; with no Ethiopian reading it is kept and
    placed at the zone the sentence names, even when the zone comes after it."""
    found = located(engine, "Fano fighters attacked a militia post in Kassala Kebele, South "
                            "Wollo, on Monday.")
    assert found["Kassala Kebele"][0] == "ET"
    assert found["Kassala Kebele"][1] == found["South Wollo"][1]


def test_the_neighbourhoods_a_report_lists_are_in_its_town(engine):
    """Listed as a town's neighbourhoods, names are parts of it (kept and placed at it when
    the gazetteer lacks them); a town's own neighbourhoods still name the town."""
    found = located(engine, "Insurgents entered Pemba via the neighbourhoods of Chuiba in the "
                            "north, Natite in the south and Cariaco in the east. Families "
                            "sought refuge in other Damascus neighbourhoods.")
    listed = [found[name] for name in ("Chuiba", "Natite", "Cariaco") if name in found]
    assert listed and all(place == found["Pemba"] for place in listed)
    assert found["Damascus"][0] == "SY"


def test_an_unknown_village_falls_back_on_the_most_specific_place_named(engine):
    """Sokoto State, not Nigeria before it in the sentence."""
    found = located(engine, "In Nigeria, gunmen killed 12 villagers in Unguwan Bawa, Sokoto "
                            "State, on Sunday.")
    assert found["Unguwan Bawa"][1] == found["Sokoto State"][1] != found["Nigeria"][1]


def test_a_group_written_in_lower_case_or_opening_with_a_digit_is_found(engine):
    """"anti-balaka" is written in lower case, "3R" opens with a digit; the model tags
    neither as an organisation."""
    found = mentions(engine, "Clashes between anti-balaka fighters and 3R rebels near "
                             "Bocaranga left five dead in the Central African Republic.")
    groups = {t: e for t, k, e, _ in found if k == "armed_group"}
    assert groups == {"anti-balaka": "ag-anti-balaka", "3R": "ag-3r-car"}


def features(engine, text: str) -> list[tuple[str, str | None, str | None]]:
    """(text, feature, country) of each place mention, in the text's order."""
    ((_, found, entities),) = analyse(engine, [Document("t", text, "t", "t")])
    places = {e.id: e.place for e in entities}
    return [(m.text, places[m.entity_id].feature, places[m.entity_id].country)
            for m in found if m.kind == "place" and places.get(m.entity_id)]


def test_a_cue_makes_a_region_only_of_the_name_it_stands_before(engine):
    """"villages in Kandahar province" says nothing of the Kandahar that follows."""
    found = features(engine, "Taliban fighters overran villages in Kandahar province, and "
                             "thousands of families found refuge in Kandahar.")
    assert [f for t, f, _ in found if t.startswith("Kandahar")] == ["admin1", "city"]


@pytest.mark.parametrize("text", [
    "Kandahar\nIn March, Taliban fighters attacked army posts across the south.",  # heading
    "A commander said that \u201cthe southern region [Kandahar] is within our reach.\u201d",
    "Taliban gains in Kandahar, in particular the town of Spin Boldak, worried Kabul.",
    "Commanders involved in recent Kandahar operations spoke to the author.",
    "Fighters in Kandahar helped the movement to take the entire province.",
])
def test_words_around_a_bare_name_can_make_it_the_region(engine, text):
    """A heading, an editor's gloss on an area word, a name narrowed to a town inside it,
    the operations named after it, the same sentence calling it the province."""
    assert ("Kandahar", "admin1", "AF") in features(engine, text)


@pytest.mark.parametrize("text", [
    "Taliban fighters attacked army posts in Kandahar.",
    "Fighters took Kandahar, the capital of the province.",
    "Kandahar fell in August 2021. It was the second city to fall.",
    "Taliban fighters entered Kandahar, the state media said.",
])
def test_without_such_words_a_bare_name_is_the_city(engine, text):
    assert ("Kandahar", "city", "AF") in features(engine, text)


def test_a_town_far_smaller_than_its_namesake_region_is_not_what_the_name_means(engine):
    """Mexico's Guerrero state, not one of the villages of 1,000 people called Guerrero."""
    found = features(engine, "Cartel gunmen killed six police officers in Guerrero and "
                             "Michoac\u00e1n on Monday.")
    assert [(f, c) for t, f, c in found] == [("admin1", "MX"), ("admin1", "MX")]


def test_villages_a_list_names_are_not_a_district_abroad_and_lie_by_the_sentence_before(
        engine):
    """A list of villages the gazetteer lacks names villages throughout: the Rwandan
    district that shares one's name is no reading of it; with no place in their own
    sentence they are placed at the most specific place of the sentence before."""
    text = ("Fighting went on in eastern DR Congo. The army said the front line was at "
            "Kibumba, Nyiragongo territory. The rebels occupy Buhumba, Kanyamahoro, Kalengera, "
            "Nyamasheke, and Kabizo, a local official said.")
    found = located(engine, text)
    kibumba = found["Kibumba"]
    assert kibumba[0] == "CD"
    assert all(found[name] == kibumba for name in ("Buhumba", "Kanyamahoro", "Nyamasheke")
               if name in found)
    assert found.get("Nyamasheke") == kibumba


def test_a_famous_town_far_from_the_theatre_is_better_than_no_place(engine):
    """Named by its own name where nothing in the text offers another reading."""
    found = located(engine, "Taliban fighters shelled Kandahar and Lashkar Gah. The "
                            "negotiators met at the Lausanne talks in May.")
    assert found["Lausanne"][0] == "CH"


def test_a_heading_is_read_from_a_short_reach_of_its_line():
    """A report on one long line is not read whole for each of its names."""
    line = "Marwa " + "x" * 10_000
    assert line_of(line, 0, 5).startswith("Marwa") and len(line_of(line, 0, 5)) <= 5 + LINE_REACH
    assert line_of("Intro.\nKandahar\nBody text.", 7, 15) == "Kandahar"
    middle = "a" * 5_000 + " Kandahar " + "b" * 5_000
    assert len(line_of(middle, 5_001, 5_009)) <= 8 + 2 * LINE_REACH


def test_lists_of_regions_are_found_and_a_sentence_long_list_is_bounded():
    sentence = ("Fighting spread in Helmand and Kandahar provinces, the provinces of Zabul, Ghazni "
                "and Paktika, and Zamfara, Sokoto and Katsina states.")
    assert listed_as_regions(sentence) == {"Helmand", "Kandahar", "Zabul", "Ghazni", "Paktika",
                                           "Zamfara", "Sokoto", "Katsina"}
    names = [f"Village{i}" for i in range(200)]
    found = listed_as_regions(", ".join(names) + " and Lastone districts")
    assert "Lastone" in found and len(found) <= MAX_LISTED + 2


def test_a_model_span_never_runs_across_a_bracket(engine):
    # the model read "Khartoum North (Bahri" as one person, which hid the town
    found = mentions(engine, "Further east, the army said it had retaken Wad Madani, the capital "
                             "of Gezira state, after the RSF withdrew towards Al-Managil. In "
                             "Khartoum North (Bahri) and Omdurman, fighting continued.")
    assert ("Khartoum North", "place", "gn-379251", "SD") in found
    assert not [t for t, *_ in found if "(" in t or ")" in t]


def test_french_particles_join_a_hyphened_name(engine):
    found = mentions(engine, "The Kenyan-led mission said it was reinforcing the Haitian National "
                             "Police in Port-au-Prince, where the Gran Grif gang operates.")
    assert ("Port-au-Prince", "place", "gn-3718426", "HT") in found


def test_an_acronym_in_an_alias_keeps_it_from_being_any_namesake(engine):
    # "AES joint force" (the Sahel states' force) folded to "joint force": Darfur's Joint
    # Forces became the Sahel's
    found = mentions(engine, "The Sudanese Armed Forces and allied Joint Forces of armed "
                             "movements still hold El Fasher.")
    assert [i for _, kind, i, _ in found if kind == "armed_group" and i == "ag-fu-aes"] == []


@pytest.mark.parametrize("text, name, entity_id, country", [
    ("Al-Shabaab fighters attacked Puntland forces near Bosaso.", "Puntland",
     "sup-puntland-so", "SO"),
    ("Troops withdrew from Jubaland to Kismayo.", "Jubaland", "sup-jubaland-so", "SO"),
    ("Hargeisa is the capital of Somaliland.", "Somaliland", "sup-somaliland-so", "SO"),
    ("Shelling continued across the Donbas on Monday.", "Donbas", "sup-donbas-ua", "UA"),
    ("Armenians fled Nagorno-Karabakh in 2023.", "Nagorno-Karabakh",
     "sup-nagorno-karabakh-az", "AZ"),
])
def test_states_and_regions_that_are_no_first_level_unit_are_known(engine, text, name,
                                                                    entity_id, country):
    assert (name, "place", entity_id, country) in mentions(engine, text)


def test_a_world_city_abroad_must_be_written_as_it_is_named(engine):
    # "Samaara" folds like Samara (Russia, 1.2 million) but is none of its names: in a report
    # on Mindanao it is an unknown village, placed by its sentence, not a city 8,000 km away
    found = mentions(engine, "New People's Army rebels ambushed soldiers in Samaara, near "
                             "Malaybalay in Bukidnon, and in Butuan and Tandag, the army said.")
    assert [c for t, _, _, c in found if t == "Samaara"] == ["PH"]
    # a world city written as it is named still stands abroad
    found = mentions(engine, "Talks on Mindanao were held in Moscow, far from Butuan and Tandag.")
    assert [c for t, _, _, c in found if t == "Moscow"] == ["RU"]


@pytest.mark.parametrize("text, name, entity_id", [
    ("Soldiers clashed with the New People's Army in Samar.", "Samar", "sup-samar-ph"),
    ("The NPA attacked a farm in Negros Occidental.", "Negros Occidental",
     "sup-negros-occidental-ph"),
])
def test_the_provinces_of_the_philippines_communist_insurgency_are_known(engine, text, name,
                                                                          entity_id):
    assert (name, "place", entity_id, "PH") in mentions(engine, text)


def test_a_government_designation_names_the_group(engine):
    found = mentions(engine, "The Oromo Liberation Army, which the government calls Shene, "
                             "ambushed a convoy near Nekemte.")
    assert ("Shene", "armed_group", "ag-ola", None) in found


def test_two_towns_the_model_took_for_one_organisation_are_both_found(engine):
    # the model read "Zemio and Mboki" as one organisation, which hid both towns
    found = mentions(engine, "The Azande Ani Kpi Gbe militia clashed with the Union for Peace "
                             "in the Central African Republic (UPC) around Zemio and Mboki in "
                             "Haut-Mbomou prefecture.")
    assert {t for t, kind, _, c in found if kind == "place" and c == "CF"} >= {"Zemio", "Mboki"}


def test_a_town_in_a_region_the_document_names_beats_a_larger_namesake(engine):
    found = mentions(engine, "In Chhattisgarh, security forces killed 31 Maoists of the "
                             "Communist Party of India (Maoist) in Bijapur district.")
    ((entity_id,),) = {(i,) for t, _, i, _ in found if t.startswith("Bijapur")}
    assert entity_id == "gn-1275700"  # Bijapur of Chhattisgarh, not Vijayapura of Karnataka
