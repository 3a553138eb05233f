"""Dataset sources, one file each, found automatically: every module here that calls
`register(...)` on import adds a source to the pages and the CLI.

Offers: `RawData` (what a source returns), `Source` (the protocol), `register`, `get_source`,
`all_sources`. Modules: digits (bundled), folder (image folders and uploaded zips), kuzushiji
(Kuzushiji-49 .npz), torchvision_sets (MNIST family and CIFAR). Add one: CONTRIBUTING.md.
"""
from core.data.sources.base import RawData, Source, all_sources, get_source, register

__all__ = ["RawData", "Source", "all_sources", "get_source", "register"]
