"""The Chinchilla training runs as extracted by Epoch AI (Besiroglu et al. 2024), shipped with the package.

245 points read off Figure 4 of Hoffmann et al. 2022: model size N, training FLOP C and final loss.
Tokens are derived as D = C / (6 N). Epoch drops the five highest-loss points (badly undertrained
runs near 1e19 FLOP), leaving 240. Provenance: ``chinchilla/SOURCE.md`` beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from paperlib.data.sources import DataError, Provenance, sha256_file

CSV_PATH = Path(__file__).with_name("chinchilla") / "svg_extracted_data.csv"
CSV_SHA256 = "193478df4e90f040016431996c45682659306840ecdadf83cfb9cd5ca0aa1b30"
SOURCE = ("epoch-research/analyzing-chinchilla data/svg_extracted_data.csv "
          "(commit 92258837425e1b5f2851d624287f0120583a3d0e), shipped as package data")


@dataclass
class ChinchillaPoints:
    """Arrays of model size N, tokens D, training FLOP C and loss, one entry per run."""

    N: np.ndarray
    D: np.ndarray
    C: np.ndarray
    loss: np.ndarray
    provenance: Provenance

    def __len__(self) -> int:
        return len(self.loss)


def load_chinchilla(drop_highest_loss: int = 5, path: Path = CSV_PATH) -> ChinchillaPoints:
    """Load the verified points, without the ``drop_highest_loss`` highest-loss runs (Epoch's filter)."""
    actual = sha256_file(path)
    if actual != CSV_SHA256:
        raise DataError(f"{path}: sha256 {actual[:12]}… does not match the pinned {CSV_SHA256[:12]}…")
    table = pd.read_csv(path)
    if drop_highest_loss:
        threshold = np.sort(table["loss"].to_numpy())[-drop_highest_loss]
        table = table[table["loss"] < threshold]
    N = table["Model Size"].to_numpy(float)
    C = table["Training FLOP"].to_numpy(float)
    provenance = Provenance("chinchilla-epoch", SOURCE, CSV_SHA256, str(path),
                            note=f"{len(table)} of 245 points (dropped the {drop_highest_loss} highest-loss runs)")
    return ChinchillaPoints(N=N, D=C / (6 * N), C=C, loss=table["loss"].to_numpy(float), provenance=provenance)
