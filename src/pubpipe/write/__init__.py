"""Writers: serialize the same Book to EPUB, PDF and HTML; none of them changes the Book."""
