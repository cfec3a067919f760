"""The HTTP side of user accounts: `/api/v1/users` and the login-lock routes.

The accounts themselves (`hubdesk.users`) sit low, below every domain, because every domain
asks who the principal is; their routers sit here, on the domains' floor, because they read
the request dependencies of `hubdesk.access`, which authenticate through `hubdesk.users`.
"""
