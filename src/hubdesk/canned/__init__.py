"""Canned responses: reusable reply texts with placeholders, shared or personal."""
