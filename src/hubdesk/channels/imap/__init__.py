"""The IMAP half of the channels: one poller per mailbox, under a lease on the mailbox row.

`supervisor` takes and renews the leases (`leases`) and starts a `poller` per held mailbox; a
poller connects (`client`), polls the folder (`poll`) into the ledger (`ledger` says what it
already holds) and acknowledges on the server only after the commit; `status` is the poller's
side of the mailbox row (its snapshot, status and checkpoint).
"""
