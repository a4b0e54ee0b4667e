"""Pure file formats: bytes <-> typed records, and validation.

Nothing in this package touches a database or the filesystem beyond reading a
stream it is handed; handlers and the CLI build on it.
"""
