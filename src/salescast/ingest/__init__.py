"""The weekly sales feed: validation, name resolution, and the raw / weekly / monthly layers."""
