"""HTML as every stage sees it: the one parser entry and the content-model sets.

Trees are lxml elements in no namespace with lowercase tag names (see ``document.py``). Parsing
goes through html5lib, so markup is read the way a browser reads it.
"""

from __future__ import annotations

import warnings

from lxml import etree

# Elements whose content is phrasing only: a block inside one is invalid, a card must be inline.
PHRASING_ONLY = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "span", "a", "em", "strong", "b", "i", "u", "s",
    "small", "sub", "sup", "code", "q", "cite", "abbr", "time", "mark", "dfn", "kbd", "samp",
    "var", "bdi", "bdo", "pre", "del", "ins", "summary", "rt", "dt", "label", "legend", "data",
    "button", "caption"})
# Flow blocks: what the sanitizer moves out of a phrasing-only parent.
FLOW_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "details", "div", "dl", "figure", "footer", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "ol", "p", "pre", "section", "table", "ul",
    "figcaption", "li", "dd", "dt", "caption", "summary", "tbody", "thead", "tfoot", "tr", "td",
    "th", "col", "colgroup"})
# Parents whose content model allows a <div> (flow content).
FLOW_PARENTS = frozenset({
    "div", "figure", "section", "article", "aside", "blockquote", "li", "dd", "td", "th", "main",
    "header", "footer", "nav", "details", "body"})
# Block-level boxes: where a printed page can begin (the page map addresses these).
BLOCK_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "figure", "figcaption",
    "pre", "table", "tr", "ul", "ol", "dl", "div", "section", "aside", "header", "footer", "hr",
    "details", "summary", "address", "nav", "article", "main"})
# Elements that may not hold a <span> child (their content model lists their items only).
NO_SPAN_CHILD = frozenset({
    "ul", "ol", "dl", "menu", "table", "thead", "tbody", "tfoot", "tr", "colgroup", "select",
    "optgroup", "datalist", "hgroup", "picture", "ruby"})
# What lists and rows may hold.
LIST_ITEMS = {"ul": ("li",), "ol": ("li",), "menu": ("li",), "dl": ("dt", "dd", "div"),
              "tr": ("td", "th")}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def table_rows(table: etree._Element) -> list[etree._Element]:
    """A table's own rows in order (not those of tables nested in its cells)."""
    out = []
    for child in table:
        if child.tag == "tr":
            out.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            out.extend(r for r in child if r.tag == "tr")
    return out


def row_cells(row: etree._Element) -> list[etree._Element]:
    return [c for c in row if c.tag in ("td", "th")]


def has_header_cells(table: etree._Element) -> bool:
    return any(c.tag == "th" for r in table_rows(table) for c in row_cells(r))


def is_data_table(table: etree._Element) -> bool:
    """Two rows and two columns at least: a table whose cells can relate to headers at all
    (a one-row or one-column table lays things out side by side; it has nothing to head)."""
    rows = table_rows(table)
    return len(rows) >= 2 and max((len(row_cells(r)) for r in rows), default=0) >= 2


def parse_document(html: str) -> etree._Element:
    """An HTML document (or any markup) parsed as a browser would: the <html> root element."""
    import html5lib

    with warnings.catch_warnings():  # html5lib warns when it renames non-XML names like <o:p>
        warnings.simplefilter("ignore")
        parser = html5lib.HTMLParser(tree=_tree_builder(), namespaceHTMLElements=False)
        return parser.parse(html).getroot()


_BUILDER = None


def _tree_builder():
    """html5lib's lxml tree builder, with text insertion that does not count the children.

    Its stock insertText asks ``len(element)``, which lxml answers by walking every child: a
    chapter of 35,000 paragraphs took minutes. Looking at the last child is enough (and O(1))."""
    global _BUILDER
    if _BUILDER is not None:
        return _BUILDER
    from html5lib.treebuilders import getTreeBuilder

    base = getTreeBuilder("lxml")

    class Builder(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stock = self.elementClass
            coerce = self.infosetFilter.coerceCharacters

            class Element(stock):
                def insertText(self, data, insertBefore=None):
                    if insertBefore is not None:
                        return stock.insertText(self, data, insertBefore)
                    el = self._element
                    last = el[-1] if next(iter(el), None) is not None else None
                    data = coerce(data)
                    if last is None:
                        el.text = (el.text or "") + data
                    else:
                        last.tail = (last.tail or "") + data

            self.elementClass = Element

    _BUILDER = Builder
    return Builder


def parse_fragment(html: str) -> etree._Element:
    """An HTML fragment parsed as a browser would, as a <div> root in no namespace."""
    doc = parse_document("<!DOCTYPE html><html><head></head><body>" + html + "</body></html>")
    body = doc.find("body")
    # html5lib's lxml builder can leave the document's root around the body: detach it.
    root = etree.Element("div")
    root.text = body.text
    for child in list(body):
        root.append(child)
    return root


def parse_body(html: str) -> etree._Element | None:
    """The <body> of markup parsed as a document (embedded srcdoc, fallback content)."""
    return parse_document(html).find("body")
