"""The speed machinery: faster paths to the same results, kept out of the teaching loop.

gpu_input (JPEG decoding and augmentation on the GPU), features (a frozen backbone's tokens cached once
per split), distributed (DistributedDataParallel under torchrun). The core reaches them through
documented hooks only: `train` picks the loader (`gpu_input.image_loader`), the cache
(`features.cached_split`) and DDP (`distributed`); `engine.validate` takes a `gather` function instead
of importing `distributed`.
"""
