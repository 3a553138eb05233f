"""Errors a user can cause. Pages show their message; the CLI prints it and exits non-zero."""


class UserError(Exception):
    """Something the user can fix (a bad path, a corrupt file, a setting); never a bug."""


class DatasetError(UserError):
    """A dataset could not be loaded or is unusable as asked (missing files, one class, ...)."""


class PathNotAllowed(UserError):
    """A typed path lies outside the configured data roots."""


class UnsafeArchive(UserError):
    """A zip was refused before anything was written (path traversal, links, too large)."""
