"""Ingestion: from image files, archives and hubs to a dataset directory with metadata.csv.

artgan (ArtGAN label files, the wikiart.zip), index (scan a folder, write metadata.csv), prepare (resize
once), download (stream huggan/wikiart), sample (the synthetic sample the tests use). The course reads
what these write through the core's `metadata` and `data`; it needs none of them to train.
"""
