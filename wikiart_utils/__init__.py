"""wikiart_utils: the code behind the WikiArt multitask (artist / genre / style) notebook course.

Modules, one job each: labels (vocabularies), artgan (label files), images (safe decoding),
splits, index (metadata.csv), sample (synthetic dataset), prepare (resize once), download
(Hugging Face), data (Dataset/DataLoader), cli.
"""
__version__ = "0.1.0"
