"""Rebuild wikiart_utils/resources/wikiart_stats.json from the ArtGAN label files.

Usage: python tools/build_resources.py ../shared/wikiart-artgan
Only counts and names leave the label files: nothing else of them is shipped.
"""
import collections
import json
import sys
from pathlib import Path

from wikiart_utils import labels
from wikiart_utils.ingest import artgan

MIN_PAINTINGS = 150


def main(src: str) -> None:
    src_dir = Path(src)
    table = artgan.read_artgan_labels(src_dir)
    styles = list(dict.fromkeys(sorted(table["style"])))
    genres = artgan.read_class_names(src_dir / "genre_class.txt")
    artist_counts = collections.Counter(labels.artist_from_filename(p) for p in table["path"])
    artists = sorted(a for a, c in artist_counts.items() if c >= MIN_PAINTINGS)
    known = set(artists)
    joint = collections.Counter(
        (a if a in known else "", s, g) for a, s, g in zip(
            (labels.artist_from_filename(p) for p in table["path"]), table["style"], table["genre"]))
    out = {
        "source": "ArtGAN WikiArt label files (style/genre CSVs), counted by tools/build_resources.py",
        "min_paintings_per_artist": MIN_PAINTINGS,
        "n_images": len(table),
        "styles": styles,
        "genres": genres,
        "artists": artists,
        "style_counts": {s: int((table["style"] == s).sum()) for s in styles},
        "genre_counts": {g: int((table["genre"] == g).sum()) for g in genres},
        "genre_unknown": int((table["genre"] == "").sum()),
        "artist_counts": {a: artist_counts[a] for a in artists},
        "artist_unknown": sum(c for a, c in artist_counts.items() if a not in known),
        "n_artist_slugs": len(artist_counts),
        "joint_counts": [[a, s, g, c] for (a, s, g), c in sorted(joint.items())],
    }
    dest = Path(labels.__file__).parent / "resources" / "wikiart_stats.json"
    dest.write_text(json.dumps(out, indent=0, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"wrote {dest}: {len(artists)} artists, {len(joint)} joint cells")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/wikiart-artgan")
