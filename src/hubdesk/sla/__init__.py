"""SLA policies, business-hours calendars, ticket clocks and escalations."""
