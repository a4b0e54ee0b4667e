"""AR extract (seed 001 "pmtARIntegrator Job")."""

JOBS = {
    "ar.extract": "handlers.ar.extract:ArExtractJob",
}
