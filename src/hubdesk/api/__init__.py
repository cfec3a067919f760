"""The REST API's shared building blocks below the domains: size limits and bounded integers
(`limits`) and the response/request base models and paging (`schemas`). Domain schemas and
workflow parameters use them; nothing here imports a domain."""
