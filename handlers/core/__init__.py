"""Channel-independent handlers and jobs."""

HANDLERS = {
    "archive": "handlers.core.archive:ArchiveHandler",
}
JOBS = {
    "core.noop": "handlers.core.jobs:NoopJob",
    "chain": "handlers.chain:ChainJob",
}
