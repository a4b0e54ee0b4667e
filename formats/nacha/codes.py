"""NACHA code tables: transaction codes, SEC codes, return reasons and change codes.

Return and change code titles follow PAYMENT-FORMATS.md §3.3/§3.4 (NACHA Rules
titles, shortened). R90 is listed as upcoming (effective 17 March 2028).
"""

from __future__ import annotations

#: transaction code -> (account type, meaning)
TRANSACTION_CODES: dict[int, str] = {
    21: "checking return/NOC (credit)", 22: "checking credit", 23: "checking prenote credit",
    24: "checking zero-dollar credit with remittance",
    26: "checking return/NOC (debit)", 27: "checking debit", 28: "checking prenote debit",
    29: "checking zero-dollar debit with remittance",
    31: "savings return/NOC (credit)", 32: "savings credit", 33: "savings prenote credit",
    34: "savings zero-dollar credit with remittance",
    36: "savings return/NOC (debit)", 37: "savings debit", 38: "savings prenote debit",
    39: "savings zero-dollar debit with remittance",
    41: "general ledger return/NOC (credit)", 42: "general ledger credit",
    43: "general ledger prenote credit", 44: "general ledger zero-dollar credit",
    46: "general ledger return/NOC (debit)", 47: "general ledger debit",
    48: "general ledger prenote debit", 49: "general ledger zero-dollar debit",
    51: "loan return/NOC (credit)", 52: "loan credit", 53: "loan prenote credit",
    54: "loan zero-dollar credit", 55: "loan debit (reversal only)", 56: "loan return/NOC (debit)",
}

CREDIT_CODES = frozenset({21, 22, 23, 24, 31, 32, 33, 34, 41, 42, 43, 44, 51, 52, 53, 54})
DEBIT_CODES = frozenset({26, 27, 28, 29, 36, 37, 38, 39, 46, 47, 48, 49, 55, 56})
PRENOTE_CODES = frozenset({23, 28, 33, 38, 43, 48, 53})
ZERO_DOLLAR_CODES = frozenset({24, 29, 34, 39, 44, 49, 54})
#: automated return or NOC entries: the "x1"/"x6" codes
RETURN_NOC_CODES = frozenset({21, 26, 31, 36, 41, 46, 51, 56})
#: amounts that must be zero
ZERO_AMOUNT_CODES = PRENOTE_CODES | ZERO_DOLLAR_CODES

SERVICE_CLASS_MIXED = 200
SERVICE_CLASS_CREDITS = 220
SERVICE_CLASS_DEBITS = 225
SERVICE_CLASS_ADV = 280

#: SEC codes the validator and writer support fully
SUPPORTED_SEC = frozenset({"PPD", "CCD", "WEB", "TEL", "CTX", "COR"})
#: SEC codes that exist and parse structurally, but are not validated ("not supported")
KNOWN_SEC = SUPPORTED_SEC | frozenset({
    "ACK", "ADV", "ARC", "ATX", "BOC", "CIE", "DNE", "ENR", "IAT", "MTE", "POP", "POS", "RCK",
    "SHR", "TRC", "TRX", "XCK",
})

RETURN_CODES: dict[str, str] = {
    "R01": "Insufficient funds",
    "R02": "Account closed",
    "R03": "No account / unable to locate account",
    "R04": "Invalid account number structure",
    "R05": "Unauthorized debit to consumer account using corporate SEC code",
    "R06": "Returned per ODFI's request",
    "R07": "Authorization revoked by customer",
    "R08": "Payment stopped",
    "R09": "Uncollected funds",
    "R10": "Customer advises Originator is not known to Receiver and/or not authorized to debit",
    "R11": "Customer advises entry not in accordance with the terms of the authorization",
    "R12": "Account sold to another DFI",
    "R13": "Invalid ACH routing number / RDFI not qualified to participate",
    "R14": "Representative payee deceased or unable to continue",
    "R15": "Beneficiary or account holder (other than representative payee) deceased",
    "R16": "Account frozen / entry returned per OFAC instruction",
    "R17": "File record edit criteria / questionable circumstances / improper reversal",
    "R18": "Improper effective entry date",
    "R19": "Amount field error",
    "R20": "Non-transaction (non-payment) account",
    "R21": "Invalid company identification",
    "R22": "Invalid individual ID number",
    "R23": "Credit entry refused by Receiver",
    "R24": "Duplicate entry",
    "R25": "Addenda error",
    "R26": "Mandatory field error",
    "R27": "Trace number error",
    "R28": "Routing number check-digit error",
    "R29": "Corporate customer advises not authorized",
    "R30": "RDFI not participant in check truncation program",
    "R31": "Permissible return entry (CCD/CTX; ODFI agreed)",
    "R32": "RDFI non-settlement",
    "R33": "Return of XCK entry",
    "R34": "Limited participation DFI",
    "R35": "Return of improper debit entry",
    "R36": "Return of improper credit entry",
    "R37": "Source document presented for payment",
    "R38": "Stop payment on source document",
    "R39": "Improper source document / source document presented for payment",
    "R40": "Return of ENR entry by Federal Government agency",
    "R41": "Invalid transaction code (ENR)",
    "R42": "Routing number / check digit error (ENR)",
    "R43": "Invalid DFI account number (ENR)",
    "R44": "Invalid individual ID number / identification number (ENR)",
    "R45": "Invalid individual name / company name (ENR)",
    "R46": "Invalid representative payee indicator (ENR)",
    "R47": "Duplicate enrollment (ENR)",
    "R50": "State law affecting RCK acceptance",
    "R51": "Item related to RCK entry is ineligible or RCK entry is improper",
    "R52": "Stop payment on item related to RCK entry",
    "R53": "Item and RCK entry presented for payment",
    "R61": "Misrouted return (dishonored return)",
    "R62": "Return of erroneous or reversing debit (dishonored return)",
    "R67": "Duplicate return (dishonored)",
    "R68": "Untimely return (dishonored)",
    "R69": "Field error(s) (dishonored)",
    "R70": "Permissible return entry not accepted / return not requested by ODFI (dishonored)",
    "R71": "Misrouted dishonored return (contested)",
    "R72": "Untimely dishonored return (contested)",
    "R73": "Timely original return (contested)",
    "R74": "Corrected return (contested)",
    "R75": "Return not a duplicate (contested)",
    "R76": "No errors found (contested)",
    "R77": "Non-acceptance of R62 dishonored return (contested)",
    "R80": "IAT entry coding error",
    "R81": "Non-participant in IAT program",
    "R82": "Invalid foreign receiving DFI identification",
    "R83": "Foreign receiving DFI unable to settle",
    "R84": "Entry not processed by Gateway",
    "R85": "Incorrectly coded outbound international payment",
    "R90": "Entry returned due to RDFI's sanctions compliance obligations (effective 2028-03-17)",
}

#: codes whose rules take effect later; accepted, flagged in descriptions
UPCOMING_RETURN_CODES = frozenset({"R90"})
DISHONORED_CODES = frozenset({"R61", "R62", "R67", "R68", "R69", "R70"})
CONTESTED_CODES = frozenset({"R71", "R72", "R73", "R74", "R75", "R76", "R77"})
#: R14/R15 carry a date of death
DEATH_CODES = frozenset({"R14", "R15"})

CHANGE_CODES: dict[str, str] = {
    "C01": "Incorrect DFI account number",
    "C02": "Incorrect routing number",
    "C03": "Incorrect routing number and incorrect DFI account number",
    "C04": "Incorrect individual name / receiving company name",
    "C05": "Incorrect transaction code",
    "C06": "Incorrect DFI account number and incorrect transaction code",
    "C07": "Incorrect routing number, DFI account number and transaction code",
    "C08": "Incorrect receiving DFI identification (IAT only)",
    "C09": "Incorrect individual identification number",
    "C10": "Incorrect company name (legacy)",
    "C11": "Incorrect company identification (legacy)",
    "C12": "Incorrect company name and company identification (legacy)",
    "C13": "Addenda format error",
    "C14": "Incorrect SEC code for outbound international payment",
}

REFUSED_CHANGE_CODES: dict[str, str] = {
    "C61": "Misrouted notification of change",
    "C62": "Incorrect trace number",
    "C63": "Incorrect company identification number",
    "C64": "Incorrect individual identification number / identification number",
    "C65": "Incorrectly formatted corrected data",
    "C66": "Incorrect discretionary data",
    "C67": "Routing number not from original entry detail record",
    "C68": "DFI account number not from original entry detail record",
    "C69": "Incorrect transaction code",
}


def describe_return(code: str) -> str:
    """Title of a return code; unknown codes are kept as they are (custom partner codes)."""
    return RETURN_CODES.get(code, f"unknown return reason code {code}")


def describe_change(code: str) -> str:
    return CHANGE_CODES.get(code) or REFUSED_CHANGE_CODES.get(code) or f"unknown change code {code}"
