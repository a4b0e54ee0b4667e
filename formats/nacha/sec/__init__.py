"""SEC-code rules, one module per supported Standard Entry Class (like moov's batchPPD.go).

Each module defines ``RULE``, a :class:`SecRule`. The reader asks the rule of the
batch's SEC code which transaction codes and addenda an entry may have; codes that
are not here parse structurally and get a "not supported" error.
"""

from __future__ import annotations

from collections.abc import Mapping

from formats.nacha.sec._rule import SecRule
from formats.nacha.sec.ccd import RULE as CCD
from formats.nacha.sec.cor import RULE as COR
from formats.nacha.sec.ctx import RULE as CTX
from formats.nacha.sec.ppd import RULE as PPD
from formats.nacha.sec.tel import RULE as TEL
from formats.nacha.sec.web import RULE as WEB

RULES: Mapping[str, SecRule] = {r.code: r for r in (PPD, CCD, WEB, TEL, CTX, COR)}

__all__ = ["RULES", "SecRule"]
