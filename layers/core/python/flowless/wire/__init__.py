"""Pydantic models of the products' wire formats. Field names are the products' own, awkward ones too."""
