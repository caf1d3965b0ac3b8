"""What a run reads from `<home>/prepared/`: the manifest, its checksum, and the splits encoded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from namelang.data.alphabet import MAX_LENGTH, Alphabet
from namelang.data.split import load_manifest, manifest_sha256, read_split
from namelang.errors import NamelangError
from namelang.training.loop import Encoded
from namelang.workspace import Workspace


@dataclass
class Prepared:
    """The prepared splits one run trains on: the workspace, its manifest and the manifest's checksum."""

    workspace: Workspace
    manifest: dict
    sha256: str

    @classmethod
    def read(cls, workspace: Workspace) -> Prepared:
        return cls(workspace, load_manifest(workspace.home), manifest_sha256(workspace.home))

    @property
    def home(self) -> Path:
        return self.workspace.home

    @property
    def labels(self) -> list[str]:
        return self.manifest["labels"]

    def split(self, split: str) -> tuple[list[str], list[str]]:
        """(names, labels) of the train or val split; an empty one is refused."""
        names, labels, _ = read_split(self.home, split)
        if not names:
            raise NamelangError("the train and val splits must both hold names; run `namelang prepare` again")
        return names, labels

    def encoded(self, split: str, alphabet: Alphabet) -> Encoded:
        return encode(*self.split(split), alphabet, self.labels)


def encode(names: list[str], labels: list[str], alphabet: Alphabet, label_list: list[str]) -> Encoded:
    """Names as ids and lengths (cut at MAX_LENGTH), labels as their index in `label_list`."""
    import numpy as np

    index = {label: i for i, label in enumerate(label_list)}
    ids, lengths = alphabet.encode(names, MAX_LENGTH)
    return Encoded(ids, lengths, np.array([index[lb] for lb in labels], dtype=np.int64))
