"""The ``cover`` format: the full-wrap print cover (``write/pdf/cover.py`` draws it).

It is part of the print edition's output, sized by the interior's page count, so it needs the
same image variants as the PDF.
"""

from __future__ import annotations

from .pdf.cover import write_cover

PROFILES = ("print",)

__all__ = ["PROFILES", "write_cover"]
