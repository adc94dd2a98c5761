"""Walking a PDF's objects (pypdf): the resources of every page and of the forms it draws.

A merged body page draws its folio and running head as a form XObject with resources of its
own, so a question about the fonts of a page (embedded? subset?) must look inside its forms too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def resource_dicts(pages: Iterable) -> Iterator:
    """Every resources dictionary of the pages and of the form XObjects they draw, once each."""
    seen: set[int] = set()
    stack = []
    for page in pages:
        res = page.get("/Resources")
        if res is not None:
            stack.append(res)
        while stack:
            res = stack.pop().get_object()
            if id(res) in seen:
                continue
            seen.add(id(res))
            yield res
            xobjects = res.get("/XObject")
            for ref in (xobjects.get_object().values() if xobjects is not None else ()):
                x = ref.get_object()
                if x.get("/Subtype") == "/Form" and x.get("/Resources") is not None:
                    stack.append(x["/Resources"])


def fonts(pages: Iterable) -> Iterator:
    """Every font dictionary used by the pages (and their forms), once each."""
    seen: set[int] = set()
    for res in resource_dicts(pages):
        found = res.get("/Font")
        for ref in (found.get_object().values() if found is not None else ()):
            font = ref.get_object()
            if id(font) not in seen:
                seen.add(id(font))
                yield font


def font_file(font):
    """The embedded font program of a font dictionary (a Type 0 font's is its descendant's),
    or None."""
    for f in [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]:
        desc = f.get("/FontDescriptor")
        if desc is not None:
            desc = desc.get_object()
            for key in ("/FontFile2", "/FontFile3", "/FontFile"):
                if key in desc:
                    return desc[key].get_object()
    return None
