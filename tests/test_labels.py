"""Vocabularies (27 styles / 10 genres / 128 artists), encode/decode with -1 for unknown, mojibake repair."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikiart_utils import labels

GENRES = ["abstract_painting", "cityscape", "genre_painting", "illustration", "landscape", "nude_painting",
          "portrait", "religious_painting", "sketch_and_study", "still_life"]
STYLES = ["Abstract_Expressionism", "Action_painting", "Analytical_Cubism", "Art_Nouveau_Modern", "Baroque",
          "Color_Field_Painting", "Contemporary_Realism", "Cubism", "Early_Renaissance", "Expressionism",
          "Fauvism", "High_Renaissance", "Impressionism", "Mannerism_Late_Renaissance", "Minimalism",
          "Naive_Art_Primitivism", "New_Realism", "Northern_Renaissance", "Pointillism", "Pop_Art",
          "Post_Impressionism", "Realism", "Rococo", "Romanticism", "Symbolism", "Synthetic_Cubism", "Ukiyo_e"]


def test_class_counts():
    assert labels.num_classes() == {"artist": 128, "genre": 10, "style": 27}
    assert labels.TASKS == ("artist", "genre", "style")
    assert labels.UNKNOWN == -1


def test_styles_are_folder_names_in_artgan_order():
    # folder names (Art_Nouveau_Modern, not ArtGAN's class name Art_Nouveau), in ArtGAN's index order
    assert labels.vocab("style") == STYLES


def test_genres_in_artgan_order():
    assert labels.vocab("genre") == GENRES


def test_artists_sorted_unique_normalised():
    artists = labels.vocab("artist")
    assert artists == sorted(set(artists))
    assert all(a == labels.normalize_artist(a) and a.isascii() for a in artists)
    for name in ("claude-monet", "vincent-van-gogh", "joaquin-sorolla", "albrecht-durer", "pablo-picasso"):
        assert name in artists
    # painters with fewer than 150 paintings are unknown (-1), not a class
    assert "gregoire-michonze" not in artists and "georges-lacombe" not in artists


def test_vocab_returns_a_copy():
    styles = labels.vocab("style")
    styles.append("Nonsense")
    assert len(labels.vocab("style")) == 27


@pytest.mark.parametrize("task", labels.TASKS)
def test_encode_decode_roundtrip(task):
    for i, name in enumerate(labels.vocab(task)):
        assert labels.encode(task, name) == i
        assert labels.decode(task, i) == name


@pytest.mark.parametrize("task,name", [
    ("artist", ""), ("artist", None), ("artist", "other-painter-001"), ("artist", "Claude-Monet"),
    ("genre", ""), ("genre", "Impressionism"), ("genre", "unclassified"), ("style", "Art_Nouveau"),
    ("style", "impressionism"), ("style", None),
])
def test_unknown_encodes_to_minus_one(task, name):
    assert labels.encode(task, name) == labels.UNKNOWN == -1


@pytest.mark.parametrize("task", labels.TASKS)
def test_decode_unknown_is_empty(task):
    assert labels.decode(task, -1) == ""


def test_bad_task_raises():
    with pytest.raises(KeyError):
        labels.vocab("painter")


def test_stats_resource_consistent():
    stats = labels.stats()
    assert stats["n_images"] == 81446
    assert stats["min_paintings_per_artist"] == 150
    assert sum(stats["style_counts"].values()) == stats["n_images"]
    assert sum(stats["genre_counts"].values()) + stats["genre_unknown"] == stats["n_images"]
    assert sum(stats["artist_counts"].values()) + stats["artist_unknown"] == stats["n_images"]
    assert min(stats["artist_counts"].values()) >= 150
    assert sum(c[3] for c in stats["joint_counts"]) == stats["n_images"]


# --------------------------------------------------------------------------- mojibake

@pytest.mark.parametrize("raw,expected", [
    ("joaquã\xadn-sorolla", "joaquin-sorolla"),
    ("grã©goire-michonze", "gregoire-michonze"),
    ("georges-lacombeâ\xa0", "georges-lacombe"),
    ("Vincent_van_Gogh", "vincent-van-gogh"),
    ("  claude monet ", "claude-monet"),
    ("albrecht-dürer", "albrecht-durer"),
    ("claude-monet", "claude-monet"),
])
def test_normalize_artist(raw, expected):
    assert labels.normalize_artist(raw) == expected


@pytest.mark.parametrize("raw,expected", [
    ("joaquã\xadn-sorolla", "joaquín-sorolla"),
    ("grã©goire-michonze", "grégoire-michonze"),
    ("georges-lacombeâ\xa0", "georges-lacombe\xa0"),
    ("plain-ascii", "plain-ascii"),
])
def test_repair_mojibake(raw, expected):
    assert labels.repair_mojibake(raw) == expected


@pytest.mark.parametrize("filename,expected", [
    ("Impressionism/claude-monet_water-lilies-6.jpg", "claude-monet"),
    ("Impressionism/joaquã\xadn-sorolla_study-of-vineyard.jpg", "joaquin-sorolla"),
    ("Naive_Art_Primitivism/grã©goire-michonze_birds.jpg", "gregoire-michonze"),
    ("Symbolism/georges-lacombeâ\xa0_death.jpg", "georges-lacombe"),
    ("claude-monet_a_title_with_underscores.jpg", "claude-monet"),
    ("Impressionism/no-underscore.jpg", ""),
])
def test_artist_from_filename(filename, expected):
    assert labels.artist_from_filename(filename) == expected


# Letters whose UTF-8 form is two bytes with a lead byte C3..C5 (Latin-1 supplement + Latin Extended-A):
# the mojibake ArtGAN's names went through (UTF-8 read as Latin-1, then lower-cased) is reversible.
_LETTERS = st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-" + "".join(map(chr, range(0xC0, 0x180))))


def _artgan_mojibake(text: str) -> str:
    return text.encode("utf-8").decode("latin-1").lower()


@settings(max_examples=200, deadline=None)
@given(st.lists(_LETTERS, max_size=30).map("".join))
def test_mojibake_roundtrip_property(text):
    assert labels.repair_mojibake(_artgan_mojibake(text)) == text
    assert labels.normalize_artist(_artgan_mojibake(text)) == labels.normalize_artist(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_normalize_artist_is_idempotent_ascii_slug(text):
    slug = labels.normalize_artist(text)
    assert labels.normalize_artist(slug) == slug
    assert slug.isascii() and slug == slug.lower()
    assert not any(c.isspace() or c == "_" for c in slug)
    assert not slug.startswith("-") and not slug.endswith("-")
