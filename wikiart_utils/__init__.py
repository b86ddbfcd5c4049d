"""wikiart_utils: the code behind the WikiArt multitask (artist / genre / style) notebook course.

Three rooms, layered without cycles (tests/test_architecture.py):

- the teaching core, here at the top:
  - data: labels (vocabularies, name repair), images (safe decoding), splits, metadata (read
    metadata.csv), data (Dataset, DataLoader), eda;
  - models: models (backbone -> tokens -> LSTM -> heads), losses (masked multitask loss);
  - training: config (every setting of a run, declared once), engine (train_one_epoch, validate), train
    (a whole run), checkpoint (the file format), runtime (device, precision, RNG);
  - results: evaluate (metrics.json, predictions), metrics, plots, predict; results (the committed
    real-paintings results); provenance (which paintings may be shown, and where each comes from);
  - the course: lesson (what the training notebooks share); reproduce (run the notebooks); solutions
    (the exercises' solutions folded into their markdown, and run back from there); cli
    (`python -m wikiart_utils <command>`); fsutil (atomic files).
- `ingest`: from files to a dataset directory -- artgan (label files, the zip), index (write metadata.csv),
  prepare (resize once), download (Hugging Face), sample (the synthetic sample).
- `speed`: what makes it fast and changes no result -- gpu_input (decode and augment on the GPU),
  features (frozen-backbone token caches), distributed (DDP). The core reaches it only through the
  hooks named in `train` (and `evaluate`'s GPU decoding, `lesson.fit_on_cache`'s cache).
"""
__version__ = "0.1.0"
