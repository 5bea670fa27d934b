"""RENDER: localized policies and graded changes -> HTML and PDF bytes.

Pages and fragments, PDFs with a text layer that extracts, redlines, and the archive's pages,
banners and feeds. Nothing here writes a file.
"""
