"""Getting names in: download the archive, read a corpus, split it."""

# The PyTorch tutorial's archive; here so that the CLI can show it without importing the downloader.
DEFAULT_URL = "https://download.pytorch.org/tutorial/data.zip"
