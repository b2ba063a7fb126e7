"""Training data: file discovery, validation split, the up-front scan, official preprocessing, data order."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hifigan.audio import find_audio, load_audio
from hifigan.data.clip_scan import scan_clips
from hifigan.data.corpus import Corpus, read_filelist
from hifigan.data.dataset import VocoderDataset
from hifigan.data.held_out_draw import choose_validation
from hifigan.data.sampler import EpochKeyed, ResumableSampler
from hifigan.errors import AudioError, HifiganError
from hifigan.mel import MelSpectrogram
from tests.support.files import corpus_with_bad_files, write_clips
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 40), count=st.integers(1, 39), seed=st.integers(0, 10**6))
def test_split_is_seeded_disjoint_and_complete(n, count, seed):
    files = [Path(f"f{i:03d}.wav") for i in range(n)]
    if count >= n:
        with pytest.raises(HifiganError, match="hold out"):
            choose_validation(files, count=count, seed=seed, cli=True)
        return
    held = choose_validation(files, count=count, seed=seed, cli=True)
    train, valid = held.train, held.valid
    assert len(valid) == count and set(train).isdisjoint(valid) and sorted(train + valid) == files
    assert choose_validation(list(reversed(files)), count=count, seed=seed, cli=True) == held


def test_fraction_default_and_errors():
    files = [Path(f"f{i}.wav") for i in range(400)]
    assert 1 <= len(choose_validation(files[:40], seed=1, cli=True).valid) <= 6  # 5 % by hash, at least one
    assert 70 <= len(choose_validation(files, fraction=0.25, seed=1, cli=True).valid) <= 130  # 100 expected, sd 8.7
    with pytest.raises(HifiganError, match="at least 2"):
        choose_validation(files[:1], cli=True)
    with pytest.raises(HifiganError, match="fraction"):
        choose_validation(files, fraction=1.5, cli=True)


def test_filelists_resolve_against_wav_root(tmp_path, tiny_corpus):
    (tmp_path / "training.txt").write_text("clip00|Some text.|Some text.\nclip01|More\n\nclip02|x\n")
    (tmp_path / "validation.txt").write_text("clip03|held out\n")
    corpus = Corpus(train_list=tmp_path / "training.txt", valid_list=tmp_path / "validation.txt", wav_root=tiny_corpus)
    train, valid = corpus.resolve(seed=0)
    assert [p.name for p in train] == ["clip00.wav", "clip01.wav", "clip02.wav"]
    assert [p.name for p in valid] == ["clip03.wav"]
    (tmp_path / "bad.txt").write_text("|no id\n")
    with pytest.raises(HifiganError, match="line 1"):
        read_filelist(tmp_path / "bad.txt", tiny_corpus)
    with pytest.raises(HifiganError, match="no such file list"):
        read_filelist(tmp_path / "missing.txt", tiny_corpus)
    (tmp_path / "bom.txt").write_text("\ufeffclip00|x\nclip01|y\n", encoding="utf-8")  # Notepad's UTF-8
    assert read_filelist(tmp_path / "bom.txt", tiny_corpus) == [tiny_corpus / "clip00.wav", tiny_corpus / "clip01.wav"]


def test_a_clip_listed_twice_is_refused(tmp_path, tiny_corpus):
    """Its two copies could be drawn apart: one held out, the other trained on."""
    (tmp_path / "training.txt").write_text("clip00|a\nclip01|b\nclip02|c\nclip01|b again\n")
    with pytest.raises(HifiganError, match="line 4: 'clip01' is listed on line 2 too") as e:
        Corpus(train_list=tmp_path / "training.txt", wav_root=tiny_corpus, valid_count=1).resolve(seed=0)
    assert e.value.path == str(tmp_path / "training.txt")


def test_a_bad_file_is_never_the_held_out_clip(tmp_path, tiny_corpus):
    """The file the seeded draw holds out first is silent: the next draw is held out, and the silent one stays
    with the training files, where the scan skips it (before, the run stopped: no usable validation file)."""
    import shutil

    from hifigan.data.corpus_scan import scan_corpus
    from hifigan.data.scan_cache import gather_facts
    from hifigan.data.scan_row import ReadSettings

    folder = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, folder)
    corpus = Corpus(folder=folder, valid_count=1)
    first = corpus.split(CFG.seed).valid[0]
    sf.write(first, np.zeros(4000, dtype=np.int16), CFG.sampling_rate, subtype="PCM_16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scanned = scan_corpus(corpus, CFG, lambda f: gather_facts(f, ReadSettings(CFG.sampling_rate), progress=False))
    expected = corpus.split(CFG.seed, usable=set(find_audio(folder, recursive=True)) - {first})
    assert [c.path for c in scanned.valid.clips] == expected.valid and expected.valid != [first]
    assert scanned.train.silent == [first] and len(scanned.train.clips) == 6
    assert "1 unusable file never held out" in scanned.held.reason
    assert any("silence-only" in str(w.message) for w in caught)


def test_folder_listing_and_held_out_split(tmp_path, tiny_corpus):
    files = find_audio(tiny_corpus, recursive=True)
    assert len(files) == 8
    train, valid = Corpus(folder=tiny_corpus, valid_count=2).resolve(seed=3)
    assert len(train) == 6 and len(valid) == 2 and set(train).isdisjoint(valid)
    with pytest.raises(HifiganError, match="no audio files"):
        find_audio(tmp_path, recursive=True)


def test_a_corpus_of_symlinked_folders_is_found_whole_and_once(tmp_path, tiny_corpus):
    """Speakers linked in from elsewhere are part of the corpus; a link back up to the corpus (a loop) and a second
    link to the same speaker add nothing; hidden folders and files are left out."""
    corpus = tmp_path / "corpus"
    (corpus / "real").mkdir(parents=True)
    (corpus / ".cache").mkdir()
    write_clips(corpus / ".cache", 1)
    (corpus / "real" / ".hidden.wav").write_bytes((tiny_corpus / "clip00.wav").read_bytes())
    (corpus / "real" / "own.wav").write_bytes((tiny_corpus / "clip00.wav").read_bytes())
    (corpus / "linked").symlink_to(tiny_corpus, target_is_directory=True)
    (corpus / "real" / "loop").symlink_to(corpus, target_is_directory=True)
    found = find_audio(corpus, recursive=True)
    linked = [corpus / "linked" / p.name for p in find_audio(tiny_corpus)]
    assert found == sorted([*linked, corpus / "real" / "own.wav"])


# (format, subtype) soundfile writes for each suffix: one table, so a suffix added to AUDIO_SUFFIXES needs a row
WRITERS = {
    ".wav": ("WAV", "PCM_16"), ".w64": ("W64", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
    ".oga": ("OGG", "VORBIS"), ".opus": ("OGG", "OPUS"), ".aif": ("AIFF", "PCM_16"), ".aiff": ("AIFF", "PCM_16"),
    ".au": ("AU", "PCM_16"), ".mp3": ("MP3", "MPEG_LAYER_III"),
}


def test_every_audio_suffix_is_found_by_train_and_by_evaluate(tmp_path):
    """A corpus with one clip of each format soundfile reads: `train --corpus` (Corpus.resolve) and `evaluate`
    (pairing by stem) find exactly the same files, all of them, and each decodes; other files are ignored."""
    from hifigan.audio import AUDIO_SUFFIXES
    from hifigan.evaluation.pairing import pair_by_stem

    assert set(WRITERS) == set(AUDIO_SUFFIXES)
    sr = 16000  # a rate every one of these codecs (Opus, MPEG-2 layer III) encodes
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)).astype(np.float32)
    written = []
    for suffix, (fmt, subtype) in WRITERS.items():
        path = tmp_path / f"clip{suffix.replace('.', '_')}{suffix.upper() if suffix == '.flac' else suffix}"
        sf.write(path, tone, sr, format=fmt, subtype=subtype)
        written.append(path)
    (tmp_path / "notes.txt").write_text("not audio")
    sf.write(tmp_path / ".hidden.wav", tone, sr)
    train, valid = Corpus(folder=tmp_path, valid_count=1).resolve(seed=0)
    assert sorted(train + valid) == sorted(written)
    pairs = pair_by_stem(tmp_path, tmp_path)
    assert sorted(ref for _, ref, _ in pairs) == sorted(written)
    for path in written:
        assert len(load_audio(path, sr)) > sr // 2, path


def test_scan_skips_and_counts_bad_files(tmp_path, tiny_corpus):
    """Also silence that is not digital zero: dither of +-2 steps and a noise floor at -62 dBFS are skipped, a quiet
    recording peaking at -58 dBFS is kept."""
    folder = corpus_with_bad_files(tmp_path / "c", tiny_corpus)
    rng = np.random.default_rng(0)
    quiet = {"dither": rng.integers(-2, 3, 2000), "floor": np.round(rng.uniform(-1, 1, 2000) * 32768 * 10 ** -3.1),
             "quiet": np.round(np.sin(np.arange(2000) / 5) * 32768 * 10 ** -2.9)}
    for name, samples in quiet.items():
        sf.write(folder / f"{name}.wav", samples.astype(np.int16), CFG.sampling_rate, subtype="PCM_16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = scan_clips(find_audio(folder, recursive=True), CFG, cli=True)
    messages = " | ".join(str(w.message) for w in caught)
    for expected in ("skipped 2 unreadable or empty", "skipped 3 silence-only", "1 file clips (kept)"):
        assert expected in messages
    assert len(report.clips) == 10 and len(report.skipped) == 2
    assert [p.name for p in report.silent] == ["dither.wav", "floor.wav", "silent.wav"]
    assert [p.name for p in report.clipping] == ["loud.wav"]
    assert "2 unreadable or empty skipped" in report.summary("training set")


def test_wrong_rate_is_an_error_unless_resample(tmp_path):
    path = write_clips(tmp_path, 1, sampling_rate=16000)[0]
    with pytest.raises(AudioError, match=r"16000 Hz.*--resample") as e:
        quiet_scan([path])
    assert e.value.path == str(path)
    clip = quiet_scan([path], resample=True).clips[0]
    assert abs(clip.num_samples - sf.info(path).frames // 2) <= 1


def test_training_item_is_official_preprocessing(tiny_corpus):
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True)).clips
    ds = VocoderDataset(clips, CFG, train=True, seed=7, cli=True)
    frontend = MelSpectrogram(**CFG.mel_kwargs())
    loss_frontend = MelSpectrogram(**CFG.mel_kwargs(for_loss=True))
    for i, clip in enumerate(clips):
        mel, audio, mel_loss, index = ds[i]
        assert index == i and audio.shape == (CFG.segment_size,)
        assert mel.shape == (CFG.num_mels, CFG.segment_size // CFG.hop_size) == mel_loss.shape
        torch.testing.assert_close(mel, frontend(audio))
        torch.testing.assert_close(mel_loss, loss_frontend(audio))
        full = load_audio(clip.path)
        normalised = full / np.abs(full).max() * 0.95  # the official peak, written out
        if clip.num_samples >= CFG.segment_size:  # a window of the normalised recording
            starts = [s for s in range(len(full) - CFG.segment_size + 1)
                      if np.allclose(normalised[s : s + CFG.segment_size], audio.numpy(), atol=1e-6)]
            assert starts
        else:  # the whole recording, zero-padded
            np.testing.assert_allclose(audio.numpy()[: len(full)], normalised, atol=1e-6)
            assert not audio[len(full) :].any()


@pytest.mark.parametrize("peak", [None, 0.5])
def test_training_audio_is_scaled_to_the_configs_audio_peak_or_kept_as_recorded(tiny_corpus, peak):
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True)).clips
    short = min(range(len(clips)), key=lambda i: clips[i].num_samples)
    segment = (clips[short].num_samples // CFG.hop_size + 1) * CFG.hop_size  # the whole clip, zero-padded
    cfg = replace(CFG, audio_peak=peak, segment_size=segment)
    mel, audio, _, _ = VocoderDataset(clips, cfg, train=True, seed=7, cli=True)[short]
    recorded = load_audio(clips[short].path)
    expected = recorded if peak is None else recorded / np.abs(recorded).max() * peak
    np.testing.assert_allclose(audio.numpy()[: len(recorded)], expected, rtol=0, atol=1e-7)
    torch.testing.assert_close(mel, MelSpectrogram(**cfg.mel_kwargs())(audio))


def test_windows_depend_only_on_seed_epoch_and_index(tiny_corpus):
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True)).clips
    long = max(range(len(clips)), key=lambda i: clips[i].num_samples)
    a, b = (VocoderDataset(clips, CFG, train=True, seed=1, cli=True) for _ in range(2))
    assert torch.equal(a[long][1], b[long][1])
    windows = set()
    for epoch in range(6):
        a.set_epoch(epoch)
        windows.add(a[long][1].numpy().tobytes())
    assert len(windows) > 1


def test_validation_items_are_whole_utterances(tiny_corpus):
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True)).clips
    mel, audio, _, _ = VocoderDataset(clips, CFG, train=False, cli=True)[0]
    assert audio.shape[0] == clips[0].num_samples
    assert mel.shape[1] == MelSpectrogram(**CFG.mel_kwargs()).num_frames(clips[0].num_samples)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 30), world=st.integers(1, 3), epoch=st.integers(0, 5), skip=st.integers(0, 12))
def test_sampler_shards_and_resumes_the_same_order(n, world, epoch, skip):
    data = list(range(n))
    shards = []
    for rank in range(world):
        sampler = ResumableSampler(data, world, rank, seed=5)
        sampler.set_epoch(epoch)
        order = list(sampler)
        sampler.skip = min(skip, len(order))
        assert list(sampler) == order[sampler.skip :] and len(sampler) == len(order) - sampler.skip
        shards.append(order)
    assert sorted(set().union(*map(set, shards))) == data
    if world > 1 and n >= 2 * world:
        assert shards[0] != shards[1]


def test_epoch_keyed_keys_each_index_with_the_epoch_it_was_drawn_for():
    """The epoch is the one set when the iteration began (a later set_epoch does not relabel indices already drawn),
    and the length is the resumed sampler's, its skipped part left out."""
    sampler = ResumableSampler(list(range(6)), 1, 0, seed=5)
    sampler.set_epoch(3)
    order = list(sampler)
    sampler.skip, keyed = 2, EpochKeyed(sampler)
    drawn = iter(keyed)
    sampler.set_epoch(4)
    assert list(drawn) == [(3, index) for index in order[2:]] and len(keyed) == 4
