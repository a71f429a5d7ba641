"""The case system's references: the case (saksnummer) and the record (journalpostId).

A case system (sak/arkiv, Noark 5) files a plan proposal under a case and each document
under a record; naming both on upload and check lets every answer, webhook, report and
agenda say where it belongs, without the case system keeping its own mapping.
"""

# A Noark 5 saksnummer as case systems write it: saksår/sekvensnummer, "2026/123" or "26/123".
SAKSNUMMER_PATTERN = r"^(?:[0-9]{2}|[0-9]{4})/[0-9]{1,7}$"
# A journalpost's id in the case system: its number ("2026/123-4") or its system id (a UUID).
JOURNALPOST_ID_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z/._:-]{0,99}$"
SAKSNUMMER_HELP = "the case system's saksnummer, saksår/sekvensnummer (Noark 5), e.g. 2026/123"
JOURNALPOST_ID_HELP = "the case system's journalpost (record), e.g. 2026/123-4 or its system id"
