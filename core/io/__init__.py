"""File I/O every package shares; it imports nothing else of core but errors.

- `atomic`: the one atomic writer (files and folders appear whole or not at all) and bounded
  JSON reads.
"""
