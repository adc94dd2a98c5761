"""pubpipe: Markdown blog posts with raw HTML to a valid EPUB 3 and a print-ready PDF."""

__version__ = "0.1.0"
