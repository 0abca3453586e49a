"""CharData: nanoGPT's character vocabulary over the whole text and its 90 % / 10 % split as token tensors."""

import pytest
import torch

from paperlib.data.text import CharData

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n" * 20 + "Zounds!"


def test_vocabulary_is_every_character_of_the_whole_text_sorted():
    data = CharData.from_text(TEXT)
    assert data.chars == "".join(sorted(set(TEXT))) and data.vocab_size == len(set(TEXT))
    assert "Z" in data.chars and "Z" not in TEXT[: len(data.train)]  # a character of the validation text only


def test_split_is_the_first_90_percent_for_training_and_the_rest_for_validation():
    data = CharData.from_text(TEXT)
    cut = int(0.9 * len(TEXT))
    assert len(data.train) == cut and len(data.val) == len(TEXT) - cut
    assert data.decode(data.train) == TEXT[:cut] and data.decode(data.val) == TEXT[cut:]
    assert data.train.dtype == data.val.dtype == torch.int64


def test_encode_and_decode_are_inverse_and_ids_index_the_vocabulary():
    data = CharData.from_text(TEXT)
    ids = data.encode("Speak, speak.")
    assert data.decode(ids) == "Speak, speak." and data.decode(ids.tolist()) == "Speak, speak."
    assert [data.chars[i] for i in ids] == list("Speak, speak.")
    assert ids.min() >= 0 and ids.max() < data.vocab_size


def test_a_character_outside_the_vocabulary_cannot_be_encoded():
    with pytest.raises(KeyError):
        CharData.from_text(TEXT).encode("q")
