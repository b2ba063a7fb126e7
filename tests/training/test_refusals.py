"""How a torchrun job's refusals before training are said (training.refusals.agreed), from each rank's: one every
rank met as it is, one some met with those ranks named, several each with its ranks, in one line."""

from __future__ import annotations

from hifigan.errors import ConfigError, HifiganError
from hifigan.training.refusals import agreed


def test_a_refusal_every_rank_met_is_said_as_it_is():
    config = ConfigError("c.json", "unknown config key 'x'")
    said = agreed([config, ConfigError("c.json", "unknown config key 'x'")])
    assert type(said) is ConfigError and str(said) == "c.json: unknown config key 'x'"


def test_the_ranks_that_met_a_refusal_are_named_when_not_every_rank_did():
    missing = HifiganError("/data/corpus", "no such folder (--corpus)")
    said = agreed([None, missing, None, HifiganError("/data/corpus", "no such folder (--corpus)")])
    assert str(said) == "/data/corpus: no such folder (--corpus) (ranks 1, 3 of 4)"
    other = ConfigError("c.json", "unknown config key 'x'")
    assert str(agreed([other, missing, missing])) == (
        "c.json: unknown config key 'x' (rank 0 of 3); /data/corpus: no such folder (--corpus) (ranks 1, 2 of 3)")
    assert str(agreed([other, missing])) == (
        "c.json: unknown config key 'x' (rank 0 of 2); /data/corpus: no such folder (--corpus) (rank 1 of 2)")
