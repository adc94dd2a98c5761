"""Loaded by the render workers' forkserver: WeasyPrint, fontconfig and the system's fonts made
ready once, before any worker is forked from it (each worker would otherwise pay for it)."""

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

HTML(string="<p>Warm <b>up</b> <i>fonts</i></p>").render(font_config=FontConfiguration())
