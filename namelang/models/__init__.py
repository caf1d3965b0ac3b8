"""The kinds of model (registry), the networks and engines themselves, and the on-disk model store.

A leaf: nothing here imports the floors above (inference, scoring, training, the CLI); only the error
type, the install hints (`extras`), the device choice, the workspace's atomic writes and the prepared
split's source separator (tests/test_models_leaf.py holds it so).
"""
