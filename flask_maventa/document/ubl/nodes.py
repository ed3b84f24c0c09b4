"""The UBL document being written, as plain nodes, and their serialisation as lxml would write it.

:class:`ElementWriter` is the base of the UBL writer (:class:`~.writer.UblWriter`): what every UBL group
is written with (``cbc`` and ``cac`` elements, amounts, references, periods), the origin of each element
(the JSON-form field it came from), and the two ways out: :meth:`~ElementWriter.serialize` (straight to
bytes, :func:`~flask_maventa.document.ubl.build_ubl`) and :meth:`~ElementWriter.to_lxml` (an lxml tree,
:func:`~flask_maventa.document.ubl.write_ubl`).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal

from lxml import etree
from pybase64 import b64encode  # SIMD: ~0.01 ms for a 100 KB PDF, the standard library's ~0.4 ms

from ..invoice import InvoiceDocument, Period
from ..model import without_not_xml
from ..totals import Totals

NS = {
    "invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "credit_note": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = without_not_xml(str(value))
    return text if text.strip() else ""  # the model (Blankless) has stripped what must be stripped


# -- the elements and their serialisation -----------------------------------------------------------------

class Node:
    """One element of the document being written; ``tag`` has its prefix (``cbc:ID``).

    Plain objects instead of lxml elements: a namespaced lxml element costs ~3 µs to make and an
    invoice has a hundred or more, most of :func:`build_ubl`'s time. :func:`write_ubl` turns the
    nodes into lxml elements (it needs their paths); :func:`build_ubl` does not, so there an element
    without children (every ``cbc:``) is written straight away, as the XML text lxml would write for it
    (:func:`_leaf`), and the containers (``cac:``) are nodes holding that text.
    """

    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, parent: Node | None, tag: str, attrs: dict[str, str] | None = None,
                 text: str | None = None) -> None:
        self.tag, self.attrs, self.text = tag, attrs, text
        self.children: list[Node | str] = []
        if parent is not None:
            parent.children.append(self)


# What libxml2 escapes in text and in attribute values (lxml's serialiser); the search skips the
# translate for the usual text that has none of them.
_TEXT_SPECIAL = re.compile("[&<>\r]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r]')
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                               "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


def _leaf(tag: str, attrs: dict[str, str] | None, text: str) -> str:
    """An element with text and no children, as libxml2 writes it."""
    start = "<" + tag
    if attrs:
        for name, value in attrs.items():
            if _ATTR_SPECIAL.search(value):
                value = value.translate(_ATTR_ESCAPES)
            start += f' {name}="{value}"'
    if _TEXT_SPECIAL.search(text):
        text = text.translate(_TEXT_ESCAPES)
    return f"{start}>{text}</{tag}>"


def _write(node: Node | str, out: list[str]) -> None:
    """Append a container (its leaves written already) as XML text to ``out``; ``<a/>`` when it is empty."""
    if isinstance(node, str):
        out.append(node)
    elif not node.children:
        out.append(f"<{node.tag}/>")
    else:
        out.append(f"<{node.tag}>")
        for child in node.children:
            _write(child, out)
        out.append(f"</{node.tag}>")


class ElementWriter:
    """The plumbing of the UBL writer; each subclass writes some UBL groups, in schema order.

    ``origin`` remembers which JSON-form field each element was written from, so an official
    rule that fails on an element can be reported on the field the finance user can change
    (:func:`~flask_maventa.document.ubl.write_ubl`; :func:`~flask_maventa.document.ubl.build_ubl`
    does not need it).
    """

    def __init__(self, doc: InvoiceDocument, totals: Totals, *, track_origin: bool = True) -> None:
        self.doc, self.totals = doc, totals
        self.currency = doc.currency
        self.namespace = NS[doc.document_type]
        self.origin: dict[Node, str] = {}
        self.track = track_origin
        self.nonce = secrets.token_hex(8)
        self.embedded: list[tuple[bytes, bytes]] = []  # (placeholder, file content) -- see embed()

    def embed(self, content: bytes) -> str:
        """The element text standing for ``content`` until :meth:`serialize` writes its base64 there.

        A PDF is most of an invoice's bytes: its base64 goes straight into the serialized document
        (base64 needs no escaping) instead of through the serialiser, which would copy, check and escape
        it again.
        """
        if not content:
            return ""
        marker = f"embedded-{self.nonce}-{len(self.embedded)}"
        self.embedded.append((marker.encode("ascii"), content))
        return marker

    def embed_files(self, xml: bytes) -> bytes:
        for marker, content in self.embedded:
            xml = xml.replace(marker, b64encode(content), 1)
        return xml

    def serialize(self, root: Node) -> bytes:
        """The document's bytes, exactly as ``etree.tostring(..., xml_declaration=True, encoding="UTF-8")``
        writes the same elements (see :meth:`to_lxml`)."""
        out = [f"<?xml version='1.0' encoding='UTF-8'?>\n<{root.tag} xmlns=\"{self.namespace}\" "
               f"xmlns:cac=\"{CAC}\" xmlns:cbc=\"{CBC}\">"]
        for child in root.children:
            _write(child, out)
        out.append(f"</{root.tag}>")
        return self.embed_files("".join(out).encode("utf-8"))

    def to_lxml(self, root: Node) -> tuple[etree._Element, dict[Node, etree._Element]]:
        """The same document as lxml elements, and the element made for each node."""
        namespaces = {"cac": CAC, "cbc": CBC}
        nsmap: dict[str | None, str] = {None: self.namespace, "cac": CAC, "cbc": CBC}
        top = etree.Element(f"{{{self.namespace}}}{root.tag}", nsmap=nsmap)
        elements = {root: top}
        pending = [root]
        while pending:
            node = pending.pop()
            element = elements[node]
            element.text = node.text
            for child in node.children:
                assert isinstance(child, Node), "write_ubl tracks origins: every element is a node"
                prefix, _, local = child.tag.partition(":")
                elements[child] = etree.SubElement(element, f"{{{namespaces[prefix]}}}{local}", child.attrs)
                pending.append(child)
        return top, elements

    # small helpers: an element is written only when it has a value (R008: no empty elements)
    def leaf(self, parent: Node, tag: str, attrs: dict[str, str] | None, text: str, src: str | None) -> None:
        if not self.track:
            parent.children.append(_leaf(tag, attrs, text))
            return
        el = Node(parent, tag, attrs, text)
        if src:
            self.origin[el] = src

    def cbc(self, parent: Node, name: str, value: object, src: str | None = None, /, **attrs: str | None) -> None:
        if value is None:
            return
        text = _text(value)
        if text:
            self.leaf(parent, "cbc:" + name, {k: _text(v) for k, v in attrs.items() if v} if attrs else None,
                      text, src)

    def cac(self, parent: Node, name: str, src: str | None = None) -> Node:
        el = Node(parent, "cac:" + name)
        if src and self.track:
            self.origin[el] = src
        return el

    def amount(self, parent: Node, name: str, value: Decimal, currency: str | None = None,
               src: str | None = None) -> None:
        self.leaf(parent, "cbc:" + name, {"currencyID": currency or self.currency}, format(value, "f"), src)

    def reference(self, parent: Node, name: str, value: str | None, src: str) -> None:
        """A ``cac:*Reference`` holding only an id: written only when the id is (BR-55, R008)."""
        if value:
            self.cbc(self.cac(parent, name, src), "ID", value, src)

    def period(self, parent: Node, period: Period | None, src: str, code: str | None = None) -> None:
        el = self.cac(parent, "InvoicePeriod", src)
        if period:
            self.cbc(el, "StartDate", period.start, f"{src}.start")
            self.cbc(el, "EndDate", period.end, f"{src}.end")
        self.cbc(el, "DescriptionCode", code, "tax_point_date_code")
