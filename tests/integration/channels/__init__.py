"""Mail channels in-process: mailboxes (API, CLI, secrets), leases, the LMTP/SMTP receiver."""
