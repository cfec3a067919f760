"""The receiving half of the channels: the LMTP/SMTP listeners (`lmtp`), their hooks
(`handler`: who may receive, and 250 only after the ledger commit) and the addresses they
accept (`recipients`: mailbox addresses and their `+tag` sub-addresses).
"""
