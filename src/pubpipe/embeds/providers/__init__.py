"""One module per embed provider; each defines ``PROVIDER``. See ``embeds/registry.py``."""
