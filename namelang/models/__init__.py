"""Architectures (registry), the networks themselves, and the on-disk model store."""
