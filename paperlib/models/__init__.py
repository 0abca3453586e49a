"""Models: Weber-Fechner heads, the GPT block, regular and recurrent transformers."""

from paperlib.models.paper import build, paper_config, paper_model
from paperlib.models.recurrent import RecurrentConfig, RecurrentTransformer
from paperlib.models.transformer import Transformer, TransformerConfig

__all__ = [
    "RecurrentConfig",
    "RecurrentTransformer",
    "Transformer",
    "TransformerConfig",
    "build",
    "paper_config",
    "paper_model",
]
