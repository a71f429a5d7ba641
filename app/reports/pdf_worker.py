"""A PDF layout process: lays out one HTML document with WeasyPrint, then exits (app.reports.pdf).

WeasyPrint's layout cannot be interrupted inside a thread and its memory grows with the
document, so it runs here, in a process the service can kill:
`python -P app/reports/pdf_worker.py TIME_LIMIT_S MEMORY_BYTES`. The job comes on stdin as
JSON {"html": ..., "base_url": ..., "attachments": [...]}; the PDF goes to stdout. An
attachment is {"name", "media_type", "description", "relationship", "data" (base64)}. The
module imports WeasyPrint and nothing of the application.
"""

import json
import math
import resource
import signal
import sys
from typing import TYPE_CHECKING
from xml.etree import ElementTree

if TYPE_CHECKING:
    import pydyf
    from weasyprint.document import DocumentMetadata

# Seconds past the parent's own limit after which the process ends itself (SIGALRM), in case
# the parent is gone and cannot kill it.
ALARM_GRACE_S = 5
# Exit statuses the parent tells apart (app.reports.pdf).
EXIT_FAILED = 1
EXIT_OUT_OF_MEMORY = 3


def data_urls_only(url: str, timeout: int = 10, ssl_context=None) -> dict:  # noqa: ANN001
    """Give WeasyPrint the document's embedded images and nothing else.

    The reports embed their maps as data: URLs; fetching any other URL would let text in a
    report make the service send requests on its own network (SSRF, OWASP A10).
    """
    from weasyprint.urls import default_url_fetcher

    if not url.startswith("data:"):
        raise ValueError(f"reports load no external resources ({url[:80]})")
    return default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)


# For the archive and for screen readers: PDF/A-3 level A (ISO 19005-3) is tagged PDF with
# Unicode text, every font embedded, an sRGB output intent and XMP identification, and may carry
# files (the findings GeoJSON) as associated files. WeasyPrint writes one variant per document,
# so the PDF/UA-1 identification (ISO 14289-1 §5: pdfuaid:part in the XMP) that the reports had
# before is added to the same XMP packet by ArchiveMetadata; the tags, /MarkInfo, the language
# (from <html lang>) and the title (from <title>, /DisplayDocTitle) come with level A.
PDF_VARIANT = "pdf/a-3a"
PDF_UA_PART = "1"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PDFUAID = "http://www.aiim.org/pdfua/ns/id/"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
# ISO 19005-3 §6.6.2.3.2: an XMP property outside the predefined schemas (pdfuaid is not one)
# is described by a PDF/A extension schema, whose container prefixes are fixed.
PDFUA_EXTENSION_SCHEMA = f"""
<rdf:Description xmlns:rdf="{RDF}" xmlns:pdfaExtension="{PDFA_EXTENSION}"
    xmlns:pdfaSchema="{PDFA_SCHEMA}" xmlns:pdfaProperty="{PDFA_PROPERTY}" rdf:about="">
  <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>{PDFUAID}</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
      <pdfaProperty:name>part</pdfaProperty:name>
      <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
      <pdfaProperty:category>internal</pdfaProperty:category>
      <pdfaProperty:description>Part of ISO 14289 the file conforms to</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
  </rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>"""


def archive_metadata(metadata: "DocumentMetadata") -> "DocumentMetadata":
    """Return the document's metadata as one that also identifies the PDF as PDF/UA-1."""
    from weasyprint.document import DocumentMetadata

    for prefix, uri in (
        ("pdfaExtension", PDFA_EXTENSION),
        ("pdfaSchema", PDFA_SCHEMA),
        ("pdfaProperty", PDFA_PROPERTY),
    ):
        ElementTree.register_namespace(prefix, uri)

    class ArchiveMetadata(DocumentMetadata):
        """Document metadata whose XMP names PDF/UA-1 beside the PDF/A identification."""

        def generate_rdf_metadata(
            self, variant: str, version: int | None, conformance: str | None
        ) -> bytes:
            rdf = ElementTree.fromstring(
                super().generate_rdf_metadata(variant, version, conformance)
            )
            for description in rdf.iter(f"{{{RDF}}}Description"):
                if f"{{{PDFAID}}}part" in description.attrib:
                    description.set(f"{{{PDFUAID}}}part", PDF_UA_PART)
            rdf.append(ElementTree.fromstring(PDFUA_EXTENSION_SCHEMA))
            return ElementTree.tostring(rdf, encoding="utf-8")

    return ArchiveMetadata(**vars(metadata))


def unique_associated_files(document: object, pdf: "pydyf.PDF") -> None:
    """List each attached file once in the catalog's /AF (WeasyPrint 69 adds it twice)."""
    files = pdf.catalog.get("AF")
    if files:
        unique = list(dict.fromkeys(files))
        files.clear()
        files.extend(unique)


def layout(html: str, base_url: str, attachments: list[dict] | tuple = ()) -> bytes:
    """Lay out an HTML document on tagged A4 pages as PDF/A-3a (and PDF/UA-1), with the given
    files attached; relative links resolve against base_url."""
    from weasyprint import HTML, Attachment

    document = HTML(string=html, base_url=base_url, url_fetcher=data_urls_only).render(
        pdf_variant=PDF_VARIANT
    )
    document.metadata = archive_metadata(document.metadata)
    files = [
        # A data: URL carries the media type, which PDF/A-3 requires as the file's /Subtype.
        Attachment(
            url=f"data:{item['media_type']};base64,{item['data']}",
            url_fetcher=data_urls_only,
            name=item["name"],
            description=item.get("description"),
            # ISO 19005-3 §6.8: every embedded file is an associated file with a relationship.
            relationship=item.get("relationship", "Data"),
        )
        for item in attachments
    ]
    return document.write_pdf(
        pdf_variant=PDF_VARIANT, attachments=files, finisher=unique_associated_files
    )


def main(time_limit_s: float, memory_bytes: int) -> int:
    """Read one job from stdin, write its PDF to stdout; return the exit status."""
    # Ctrl-C reaches the whole process group; the parent ends its layouts itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGALRM's default action ends the process even inside Pango's C code.
    signal.alarm(math.ceil(time_limit_s) + ALARM_GRACE_S)
    # Address space, not RSS: Linux enforces no RSS limit; a layout past it gets MemoryError
    # (or fails to map memory) instead of taking the machine's memory.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        job = json.loads(sys.stdin.buffer.read())
        pdf = layout(job["html"], job["base_url"], job.get("attachments", ()))
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]), int(sys.argv[2])))
