"""The weekly sales feed: validation, vegetable names, storage layers and the synthetic feed generator."""
