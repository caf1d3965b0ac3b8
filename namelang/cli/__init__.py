"""The Typer command-line interface: each module parses, calls the library, renders."""
