"""The PBS (Nets Betalingsservice) channel: inbound deliveries and receipts, and the
package / transfer / settle / alerts jobs (seed 003's four engines)."""

HANDLERS = {
    "pbs.inbound": "handlers.pbs.inbound:PbsInboundHandler",
}
JOBS = {
    "pbs.package": "handlers.pbs.package:PackageJob",
    "pbs.transfer": "handlers.pbs.transfer:TransferJob",
    "pbs.settle": "handlers.pbs.settle:SettleJob",
    "pbs.alerts": "handlers.pbs.alerts:AlertsJob",
}
SECTIONS = {
    "pbs": "handlers.pbs.settings:PbsSettings",
}
