"""Dataset specs round-trip as text and JSON and refuse bad options with a message."""
import pytest

from core.data.spec import DatasetSpec
from core.errors import DatasetError

SPECS = [
    DatasetSpec(),
    DatasetSpec(source="cifar100", root="data/cifar", classes=("clock", "crocodile")),
    DatasetSpec(source="folder", root="/data/cracks dir", size=32, mode="L",
                steps=("grayscale", "blur:1.0", "adaptive_threshold:11:2"),
                val_fraction=0.2, seed=7),
    DatasetSpec(source="k49", root="data/k49", classes=("0 あ", "1 い")),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.source)
def test_round_trips_as_text_and_json(spec: DatasetSpec) -> None:
    assert DatasetSpec.from_text(spec.to_text()) == spec
    assert DatasetSpec.from_json(spec.to_json()) == spec


def test_text_form_is_readable() -> None:
    assert DatasetSpec().to_text() == "digits"
    text = DatasetSpec(source="cifar100", root="data", classes=("clock", "crocodile")).to_text()
    assert text == "cifar100?root=data&classes=clock,crocodile"
    parsed = DatasetSpec.from_text("folder?root=x&size=32&steps=resize:16,invert")
    assert parsed.size == 32 and parsed.steps == ("resize:16", "invert")


@pytest.mark.parametrize("text, message", [
    ("digits?colour=red", "unknown dataset option"),
    ("digits?size=big", "bad dataset option"),
    ("digits?mode=CMYK", "mode must be"),
    ("digits?val_fraction=0.6&test_fraction=0.5", "too little to train"),
    ("?root=x", "starts with a source name"),
])
def test_bad_specs_are_refused(text: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        DatasetSpec.from_text(text)
