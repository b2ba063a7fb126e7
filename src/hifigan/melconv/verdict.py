"""What check-mel (and train's and vocode's checks of given mels) says of a mel: the convention detect
(hifigan.melconv.detect) judged it to follow, how sure, the numbers behind it, and the option that converts it to
the model's."""

from __future__ import annotations

from dataclasses import dataclass, field

from hifigan.melconv.conventions import CONVENTIONS


@dataclass
class MelVerdict:
    """The check's answer: the most likely convention, how sure (0..1), and the numbers behind it; `expected`, the
    conventions the model takes (official by default; hifigan.melconv.model.ModelMel.expected)."""

    convention: str
    confidence: float
    transposed: bool = False
    evidence: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    expected: tuple[str, ...] = ("official",)

    @property
    def official(self) -> bool:
        return self.convention == "official" and not self.transposed

    @property
    def matches(self) -> bool:
        """The mel looks like the model's own: vocode takes it as it is."""
        return self.convention in self.expected and not self.transposed

    @property
    def option(self) -> str:
        """The vocode option that converts this mel to the model's, or what to do instead."""
        if self.matches:
            return "none needed"
        if self.convention == "unknown":
            return "no conversion known: check the front-end that made it"
        conv = CONVENTIONS[self.convention]
        extra = " --mel-stats FILE" if conv.needs_stats else " --mel-db-ref REF" if self.name.endswith("db-ref") else ""
        return f"--mel-convention {self.name}{extra}"

    @property
    def name(self) -> str:
        """The convention and layout in --mel-convention's spelling: "log10", "transposed+db", "transposed" (an
        official mel of [frames, num_mels]); "unknown" (or "transposed+unknown") where none is recognised."""
        name = ("transposed+" if self.transposed else "") + self.convention
        return "transposed" if name == "transposed+official" else name

    def line(self, option: str | None = None) -> str:
        """One line: convention, confidence, evidence, and the option that converts it (default: vocode's, `option`;
        train's differs: hifigan.data.teacher_mels.train_option)."""
        shown = ("transposed, " if self.transposed else "") + self.convention
        shown += f" ({self.detail})" if self.detail else ""
        numbers = " ".join(f"{k}={v:.4g}" for k, v in self.evidence.items())
        return f"{shown}, confidence {self.confidence:.2f} [{numbers}]; convert: {option or self.option}"
