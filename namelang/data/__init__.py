"""Getting names in: download the archive, read a corpus, split it."""
