"""Pure RFC 5322 / MIME knowledge: raw bytes in, typed values out; no I/O, no database.

Public API: `parse.parse_email` (-> `types.ParsedEmail` or `types.ParseRejection`),
`limits.MailLimits` / `limits.DEFAULT_LIMITS`, `serialize.parsed_to_json_dict` /
`serialize.rejection_to_json_dict`, `sanitize.sanitize_html`, `reply.visible_text`,
`html_text.html_to_text`, `filenames.safe_filename`. Nothing is imported here, so importing a
submodule stays cheap. How parsing stays bounded: see `parse` and docs/corpus.md.
"""
