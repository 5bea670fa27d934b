"""TRANSLATE: a :class:`~policygen.model.Project` and its PO catalogs -> localized policies.

Catalogs (extract, update, read), the localized expression of each policy, the translation
status, structural checks and the publishing gate, and XLIFF exchange.
"""
