"""IMPORT: an existing policy (plain text, HTML or Markdown) -> a source skeleton and a report."""
