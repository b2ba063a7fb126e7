"""What check-mel (and train's and vocode's checks of given mels) says of a mel: the convention detect
(hifigan.melconv.detect) judged it to follow, how sure, the numbers behind it, and the option that converts it to
the model's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hifigan.melconv.conventions import CONVENTIONS, parse_convention

# A dB mel's values cannot show whether the filterbank took the magnitude or librosa's default, the power: both floor
# at -100 dB and spread alike, and only the level differs (the power's ~14.5 dB higher, by the recording). The
# magnitude's converts exactly; the power's (mel-of-power) does not, and converted as db it is another mel.
DB_MAGNITUDE = "if it is a mel of the magnitude: librosa amplitude_to_db(melspectrogram(power=1))"
DB_POWER = ("a mel of the power, librosa's default power=2, has no exact map: compute the mel from the audio with "
            "`hifigan mel`")


def vocode_option(spec: str) -> str:
    """--mel-convention `spec`, as vocode's option spells it."""
    return f"--mel-convention {spec}"


@dataclass
class MelVerdict:
    """The check's answer: the most likely convention, how sure (0..1), and the numbers behind it; `expected`, the
    conventions the model takes (official by default; hifigan.melconv.model.ModelMel.expected); `declared`, the
    --mel-convention a file was converted from where this is the verdict of the file as given
    (hifigan.melconv.given)."""

    convention: str
    confidence: float
    transposed: bool = False
    evidence: dict[str, float] = field(default_factory=dict)
    detail: str = ""
    expected: tuple[str, ...] = ("official",)
    declared: str | None = None

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
        if (instead := self.instead(vocode_option)) is not None:
            return instead
        extra = {"stats": " --mel-stats FILE", "db_ref": " --mel-db-ref REF", None: ""}[self.needs]
        return self.converts(f"{vocode_option(self.name)}{extra}")

    @property
    def needs(self) -> str | None:
        """What the conversion of this mel takes beside its name: "stats" (a normalised mel's statistics), "db_ref"
        (a dB mel's reference amplitude) or None; vocode names them as options, a Vocoder as arguments."""
        own = self.convention in self.expected  # a normalised model's own mel, transposed: its statistics serve
        if CONVENTIONS[self.convention].needs_stats and not own:
            return "stats"
        return "db_ref" if self.name.endswith("db-ref") else None

    def converts(self, option: str) -> str:
        """`option` (the conversion of this mel, as vocode or train spells it), with the reading it rests on where the
        values allow another that no option converts (a dB mel: of the magnitude, or of the power)."""
        return f"{option} ({DB_MAGNITUDE}; {DB_POWER})" if self.convention == "db" else option

    def instead(self, spelled: Callable[[str], str]) -> str | None:
        """What to say in place of an option: none is needed, none is known, or (a file converted from `declared`)
        it needs none or reads as what was declared; None where an option converts it. `spelled`: how the caller
        names --mel-convention with a value (vocode's, or train's field)."""
        if self.declared is not None and self.matches:
            return f"none needed: the file is the model's mel as given (leave out {spelled(self.declared)})"
        if self.matches:
            return "none needed"
        if self.convention == "unknown":
            return "no conversion known: check the front-end that made it"
        if self.declared is not None and parse_convention(self.name) == parse_convention(self.declared):
            power = f" ({DB_POWER})" if self.convention == "db" else ""
            return (f"no other conversion known: the file as given reads as {spelled(self.declared)}, which was given; "
                    f"check the front-end that made it{power}")
        return None

    def as_given(self, line: str, spelled: Callable[[str], str]) -> str:
        """`line` (this verdict's), led where it is the verdict of the file as given by the --mel-convention the file
        was converted from (`declared`, as `spelled` names it: vocode's option or train's field), so that its option
        is not read as a second conversion of the converted values (hifigan.melconv.given)."""
        if self.declared is None:
            return line
        return f"once converted from {spelled(self.declared)}; as given it reads as {line}"

    @property
    def name(self) -> str:
        """The convention and layout in --mel-convention's spelling: "log10", "transposed+db", "transposed" (an
        official mel of [frames, num_mels]); "unknown" (or "transposed+unknown") where none is recognised."""
        name = ("transposed+" if self.transposed else "") + self.convention
        return "transposed" if name == "transposed+official" else name

    @property
    def reading(self) -> str:
        """What the mel reads as, in words: "transposed, log10 (floor 1e-05)"."""
        shown = ("transposed, " if self.transposed else "") + self.convention
        return shown + (f" ({self.detail})" if self.detail else "")

    def line(self, option: str | None = None) -> str:
        """One line: convention, confidence, evidence, and the option that converts it (default: vocode's, `option`;
        train's differs: hifigan.data.teacher_mels.train_option)."""
        numbers = " ".join(f"{k}={v:.4g}" for k, v in self.evidence.items())
        return f"{self.reading}, confidence {self.confidence:.2f} [{numbers}]; convert: {option or self.option}"
