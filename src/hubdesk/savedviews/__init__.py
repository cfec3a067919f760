"""Saved views: a named filter and sort of the ticket list, personal or shared."""
