"""Mail channels against real peers: a Dovecot IMAP server, `hubdesk worker` processes."""
