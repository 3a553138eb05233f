"""Dataset sources: one loader registry used by the pages and the CLI."""
from core.data.sources.base import RawData, Source, all_sources, get_source

__all__ = ["RawData", "Source", "all_sources", "get_source"]
