"""XHTML for the writers: an un-namespaced chapter tree in the XHTML namespace, and whole XHTML
documents. (A chapter's copy for one output comes from ``pubpipe.prepare``.)
"""

from __future__ import annotations

import copy

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"


def to_xhtml(el: etree._Element) -> etree._Element:
    """A copy of an un-namespaced HTML tree in the XHTML namespace (epub:type kept as epub:type)."""
    src = copy.deepcopy(el)
    root = etree.Element(f"{{{XHTML_NS}}}{src.tag}", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    for k, v in src.attrib.items():
        root.set(k, v)
    root.text = src.text
    root.tail = src.tail
    for child in list(src):
        root.append(child)  # moved under a parent that declares the default namespace
    for node in root.iter():
        if isinstance(node.tag, str) and not node.tag.startswith("{"):
            node.tag = f"{{{XHTML_NS}}}{node.tag}"
    for math in list(root.iter(f"{{{MATHML_NS}}}math")):
        # MathML written as <math xmlns="…">, as readers and people expect, not with a prefix
        clean = etree.Element(math.tag, dict(math.attrib), nsmap={None: MATHML_NS})
        clean.text, clean.tail = math.text, math.tail
        clean.extend(list(math))
        math.getparent().replace(math, clean)
    etree.cleanup_namespaces(root, top_nsmap={None: XHTML_NS, "epub": EPUB_NS})
    return root


def xhtml_document(title: str, lang: str, body_children: list[etree._Element] | etree._Element,
                   css_hrefs: list[str] = (), body_attrs: dict[str, str] | None = None) -> bytes:
    """A complete XHTML5 document (bytes, UTF-8) with the given body content (un-namespaced)."""
    html = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    html.set("lang", lang)
    html.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    head = etree.SubElement(html, f"{{{XHTML_NS}}}head")
    etree.SubElement(head, f"{{{XHTML_NS}}}meta", charset="utf-8")
    etree.SubElement(head, f"{{{XHTML_NS}}}title").text = title or "Untitled"
    for href in css_hrefs:
        etree.SubElement(head, f"{{{XHTML_NS}}}link", rel="stylesheet", type="text/css", href=href)
    body = etree.SubElement(html, f"{{{XHTML_NS}}}body")
    for k, v in (body_attrs or {}).items():
        if k.startswith("epub:"):
            body.set(f"{{{EPUB_NS}}}{k[5:]}", v)
        else:
            body.set(k, v)
    if isinstance(body_children, etree._Element):
        body_children = [body_children]
    for child in body_children:
        body.append(to_xhtml(child))
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")
