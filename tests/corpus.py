"""Where the test corpus lives: inside the repository, so a bare clone runs the suite."""

from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
ACH = CORPUS / "ach"
MOOV = ACH / "moov"
PBS = CORPUS / "pbs"
