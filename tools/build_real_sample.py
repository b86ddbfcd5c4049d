"""Rebuild data/real-sample/, the course's default data: real WikiArt paintings in the public domain.

    python tools/build_real_sample.py --subset data/wikiart-subset --artgan-csv-dir ../shared/wikiart-artgan

`--subset` is `jalpv1/wiki-art-selected-resized` at commit f7db1e48 extracted as it is (11 style folders of
224x224 JPEGs, wikiart.zip's file names), e.g.
    git -C <clone> archive f7db1e48 | tar -x -C data/wikiart-subset
Only paintings by the painters of data/real-sample/painters.csv who died in 1926 or earlier are taken.
Each painter keeps a share of their paintings that grows with their count (n ** 0.6, so the long tail
stays visible), spread over their (style, genre) cells so rare styles and genres survive; the choice
within a cell follows a hash of the file name, so the same subset always gives the same sample. Images
are resized to 128x128 (the source had already squashed every painting to a square) and saved as JPEG
quality 85 under their original relative names; then `index` writes metadata.csv with the splits.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import shutil
from pathlib import Path

import pandas as pd

from wikiart_utils import images, metadata
from wikiart_utils.ingest import index, prepare

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "real-sample"
KEEP = ("painters.csv", "README.md")  # hand-written files of the sample, kept when it is rebuilt
LAST_YEAR = 1926


def painter_quota(n: int, scale: float, floor: int) -> int:
    return min(n, max(floor, round(scale * n ** 0.6)))


def spread(rows: pd.DataFrame, quota: int) -> pd.DataFrame:
    """`quota` rows of one painter spread over their (style, genre) cells: largest remainder, >= 1 per cell."""
    rows = rows.assign(order=rows["path"].map(lambda p: hashlib.sha256(p.encode()).hexdigest()))
    cells = rows.groupby(["style", "genre"], sort=True)
    sizes = cells.size()
    share = sizes / sizes.sum() * quota
    take = share.apply(math.floor).clip(lower=1).clip(upper=sizes)
    for cell in (share - share.apply(math.floor)).sort_values(ascending=False).index:
        if take.sum() >= quota:
            break
        take[cell] = min(sizes[cell], take[cell] + 1)
    return pd.concat([group.sort_values("order").head(int(take[key])) for key, group in cells])


def select(meta: pd.DataFrame, painters: pd.DataFrame, target: int, floor: int) -> pd.DataFrame:
    eligible = set(painters.loc[painters["death_year"] <= LAST_YEAR, "painter"])
    pool = meta[meta["painter"].isin(eligible)]
    counts = pool["painter"].value_counts()
    lo, hi = 0.01, 100.0  # bisect the scale so the quotas add up to `target`
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sum(painter_quota(n, mid, floor) for n in counts) < target else (lo, mid)
    chosen = [spread(group, painter_quota(len(group), hi, floor)) for _, group in pool.groupby("painter")]
    return pd.concat(chosen).sort_values("path")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=Path, required=True, help="the f7db1e48 subset, extracted")
    parser.add_argument("--artgan-csv-dir", type=Path, required=True, help="the ArtGAN label CSVs")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--target", type=int, default=2400, help="number of paintings")
    parser.add_argument("--floor", type=int, default=8, help="paintings per painter at least (or all they have)")
    parser.add_argument("--size", type=int, default=128, help="side of the square output images")
    args = parser.parse_args()

    if not (args.subset / metadata.METADATA).is_file():
        print(index.index_dataset(args.subset, artgan_csv_dir=args.artgan_csv_dir).summary())
    meta = metadata.read_metadata(args.subset)
    painters = pd.read_csv(args.out / "painters.csv")
    chosen = select(meta, painters, args.target, args.floor)
    for child in args.out.iterdir() if args.out.is_dir() else []:
        if child.name not in KEEP:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    for rel in chosen["path"]:
        image = images.open_rgb(args.subset / rel).resize((args.size, args.size), prepare.Image.Resampling.LANCZOS)
        (args.out / rel).parent.mkdir(parents=True, exist_ok=True)
        image.save(args.out / rel, format="JPEG", quality=85, optimize=True)
    report = index.index_dataset(args.out, genre_of=dict(zip(chosen["path"], chosen["genre"])), workers=1)
    print(report.summary())
    used = set(chosen["painter"])
    unused = sorted(set(painters["painter"]) - used)
    if unused:
        print(f"painters.csv lists {len(unused)} painters with no painting in the subset: {', '.join(unused)}")
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{len(chosen)} paintings by {len(used)} painters, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
