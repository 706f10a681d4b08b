"""The Confluence Data Center backend's wire and client (evidence/datacenter.md; docs/datacenter.md).

``connect.open_dc_client`` (credentials from the environment), ``read.DcReader`` (who, version, spaces,
permissions), ``write.DcWriter`` (declarative POSTs, grant/revoke, JSON-RPC fallback), ``checks.DcChecks``
(quirks and pacing), ``wire`` (every wire detail, sourced; the unverified ones are marked there).
"""
