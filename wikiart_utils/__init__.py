"""wikiart_utils: the code behind the WikiArt multitask (artist / genre / style) notebook course.

Modules, one job each, layered without cycles:
- data in: labels (vocabularies, name repair), artgan (label files), images (safe decoding), splits,
  index (metadata.csv), prepare (resize once), download (Hugging Face), sample (synthetic data),
  data (Dataset, DataLoader), gpu_input (decode and augment on the GPU), eda;
- models: models (backbone -> tokens -> LSTM -> heads), losses (masked multitask loss), features
  (frozen-backbone token caches);
- training: engine (train_one_epoch, evaluate), train (a whole run), checkpoint (the file format),
  runtime (device, precision, RNG), distributed (DDP);
- results: evaluate (metrics.json, predictions), metrics, plots, predict; results (the committed
  real-paintings results); provenance (which paintings may be shown, and where each comes from);
- the course: lesson (what the training notebooks share); reproduce (run the notebooks); cli
  (`python -m wikiart_utils <command>`).
"""
__version__ = "0.1.0"
