"""Reports: ticket volume and backlog, response times, SLA attainment, customers, agents
and prepaid consumption, computed with SQL aggregates (see docs/reports.md)."""
