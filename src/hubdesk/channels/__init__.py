"""Mail channels: the IMAP poller and the LMTP/SMTP receiver (network edges that hand raw
bytes to the ledger), and the worker that runs them with the periodic jobs."""
