"""Intake's HTTP modules (the API layer of the email -> ticket pipeline): the spec's JSON test
endpoint (`email_to_ticket`), the raw-message ledger (`ledger`), the triage queue (`triage`)
and retrying a failed workflow run (`workflow_retry`). They sit above the pipeline; nothing in
intake below them imports them."""
