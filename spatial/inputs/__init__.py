"""Reading uploaded plan files: the format table (`formats`), one reader per format, the
source-feature builder they share (`features`) and curve geometry (`curves`)."""
