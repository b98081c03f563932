"""A tiny cross-encoder made on the spot (no download): a two-layer BERT with random weights
and a vocabulary of single characters, saved as a sentence-transformers ``CrossEncoder``
folder."""

from __future__ import annotations

import string
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_tiny_cross_encoder(folder: Path, seed: int = 7) -> Path:
    """Save a tiny random BERT cross-encoder (one score per pair) in ``folder``; returns it.
    Its weights are drawn wide (``initializer_range``), so that its scores of different
    passages are far apart: a test can tell its order from another."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    characters = string.ascii_lowercase + string.digits
    pieces = [*characters, *(f"##{c}" for c in characters), *string.punctuation]
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join([*SPECIAL, *pieces]) + "\n", encoding="utf-8")
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(SPECIAL) + len(pieces),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=0.5,
    )
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    BertTokenizer(str(vocab), model_max_length=512).save_pretrained(folder)
    return folder
