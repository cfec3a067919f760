"""Who is asking: the request dependencies every HTTP router reads (the principal, the database
session, the runtime) and the browser sessions of the agent UI behind them.

A floor of its own between the domains (whose routers depend on it) and `hubdesk.users` (which
it authenticates through), so that a domain's router never reaches up into `hubdesk.web`.
"""
