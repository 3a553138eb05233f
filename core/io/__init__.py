"""File I/O every package shares; it imports nothing else of core but errors.

- `atomic`: the one atomic writer (files and folders appear whole or not at all) and bounded
  JSON reads.
- `files`: bounded reads: `open_regular` (regular files only, never blocks on a FIFO or device,
  size-limited), `read_regular`, and JSON with a nesting limit (`loads`, `load_json_file`).
"""
