"""The bench's inputs are deterministic: the same corpus and names on every run and machine."""

from bench import corpus

POOLS = corpus.NamePools(places=("Aleppo", "Jisr al-Shughour", "Kessab"),
                         groups=("Jabhat al-Nusra", "Ahrar ash-Sham"), world=("Paris", "Lima"))


def test_corpus_is_deterministic_and_keeps_the_seed_sentences():
    templates = corpus.sentence_templates()
    assert len(templates) > 300 and sum(len(t.slots) for t in templates) > 700
    first = corpus.documents(20, POOLS, templates)
    assert first == corpus.documents(20, POOLS, templates)
    assert len(set(first)) == 20
    assert first != corpus.documents(20, POOLS, templates, seed=7)


def test_noisy_names_are_deterministic_spellings_of_pool_names():
    names = corpus.noisy_names(200, POOLS)
    assert names == corpus.noisy_names(200, POOLS)
    every = POOLS.places + POOLS.groups + POOLS.world
    assert "Aleppo" in names and any(n not in every for n in names)
