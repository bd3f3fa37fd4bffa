"""FITS files → domain objects."""
