"""Fine-tuning on teacher-forced mels: windows aligned with their audio (frame x hop), not normalised, short mels
padded with the log floor and long ones cut, every file's mel found by its own stem."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan.audio import find_audio, load_audio
from hifigan.data.corpus import Corpus
from hifigan.data.dataset import VocoderDataset
from hifigan.data.scan_cache import gather_facts
from hifigan.data.scan_row import ReadSettings
from hifigan.data.teacher_mels import MelFolder
from hifigan.errors import HifiganError, split_problems
from hifigan.mel import MelSpectrogram
from tests.support.cli_runs import failed_cleanly, one_line, run
from tests.support.scan import quiet_scan
from tests.support.tiny import tiny_config

CFG = tiny_config()


def test_teacher_forced_mels_stay_aligned_and_unnormalised(tmp_path, tiny_corpus):
    mels = tmp_path / "mels"
    mels.mkdir()
    frontend = MelSpectrogram(**CFG.mel_kwargs())
    for path in find_audio(tiny_corpus, recursive=True):
        np.save(mels / f"{path.stem}.npy", frontend(torch.from_numpy(load_audio(path))).numpy())
    clips = quiet_scan(find_audio(tiny_corpus, recursive=True), input_mels=mels).clips
    ds = VocoderDataset(clips, CFG, train=True, seed=3, cli=True)
    hop, frames = CFG.hop_size, CFG.segment_size // CFG.hop_size
    for i, clip in enumerate(clips):
        mel, audio, _, _ = ds[i]
        full_audio, full_mel = load_audio(clip.path), np.load(clip.mel_path)
        assert mel.shape == (CFG.num_mels, frames) and audio.shape == (CFG.segment_size,)
        if clip.num_samples < CFG.segment_size:
            np.testing.assert_array_equal(audio.numpy()[: len(full_audio)], full_audio)  # as recorded
            continue
        start = next(f for f in range(full_mel.shape[1]) if np.array_equal(full_mel[:, f : f + frames], mel.numpy()))
        n = min(CFG.segment_size, len(full_audio) - start * hop)
        np.testing.assert_array_equal(audio.numpy()[:n], full_audio[start * hop : start * hop + n])


def test_short_teacher_forced_mel_is_padded_with_the_log_floor(tmp_path, tiny_corpus):
    """A clip shorter than a segment: its mel is padded with ln(1e-5) = -11.5129..., the front-end's value for
    silence, and its audio with zeros."""
    wavs, mels = tmp_path / "wavs", tmp_path / "mels"
    wavs.mkdir()
    mels.mkdir()
    frontend, rng = MelSpectrogram(**CFG.mel_kwargs()), np.random.default_rng(0)
    for n in (100, 300, 500):  # samples, all shorter than the 512-sample segment
        wav = wavs / f"c{n}.wav"
        sf.write(wav, (rng.standard_normal(n) * 3000).astype(np.int16), CFG.sampling_rate, subtype="PCM_16")
        np.save(mels / f"c{n}.npy", frontend(torch.from_numpy(load_audio(wav))).numpy())
    clips = quiet_scan(find_audio(wavs, recursive=True), input_mels=mels).clips
    assert [c.num_samples for c in clips] == [100, 300, 500]
    ds = VocoderDataset(clips, CFG, train=True, seed=3, cli=True)
    for i, clip in enumerate(clips):
        mel, audio, _, _ = ds[i]
        full = np.load(clip.mel_path)
        frames = full.shape[1]
        assert mel.shape == (CFG.num_mels, CFG.segment_size // CFG.hop_size) and frames < mel.shape[1]
        np.testing.assert_array_equal(mel[:, :frames].numpy(), full)
        assert (mel[:, frames:] == np.float32(-11.512925464970229)).all()
        assert (audio[clip.num_samples :] == 0).all()


def test_short_clip_with_a_longer_teacher_forced_mel_is_cut_to_a_segment(tmp_path):
    """A clip of 500 samples (31.25 frames), shorter than a segment of 32 frames, whose TTS mel has 33, one more
    than a segment holds (the scan allows a frame or two): the mel's first segment of frames, as the official pad
    by a negative amount cuts it."""
    wavs, mels = tmp_path / "wavs", tmp_path / "mels"
    wavs.mkdir()
    mels.mkdir()
    frames = CFG.segment_size // CFG.hop_size
    rng = np.random.default_rng(0)
    sf.write(wavs / "c.wav", (rng.standard_normal(500) * 3000).astype(np.int16), CFG.sampling_rate, subtype="PCM_16")
    mel = rng.standard_normal((CFG.num_mels, frames + 1)).astype(np.float32)
    np.save(mels / "c.npy", mel)
    clips = quiet_scan(find_audio(wavs, recursive=True), input_mels=mels).clips
    got, audio, _, _ = VocoderDataset(clips, CFG, train=True, seed=3, cli=True)[0]
    np.testing.assert_array_equal(got.numpy(), mel[:, :frames])
    assert audio.shape == (CFG.segment_size,) and (audio[500:] == 0).all()


def test_teacher_forced_mels_need_distinct_stems(tmp_path, tiny_corpus):
    """Two speakers' 000.wav would both train against mels/000.npy: refused, naming both files."""
    from hifigan.data.corpus_scan import scan_corpus

    for speaker in ("spk1", "spk2"):
        (tmp_path / "wavs" / speaker).mkdir(parents=True)
        (tmp_path / "wavs" / speaker / "000.wav").write_bytes((tiny_corpus / "clip00.wav").read_bytes())
    (tmp_path / "wavs" / "spk1" / "001.wav").write_bytes((tiny_corpus / "clip01.wav").read_bytes())
    (tmp_path / "mels").mkdir()
    for stem, clip in (("000", "clip00"), ("001", "clip01")):  # every mel there, of its audio's length: the shared
        frames = sf.info(tiny_corpus / f"{clip}.wav").frames // CFG.hop_size  # stem is the one problem
        np.save(tmp_path / "mels" / f"{stem}.npy", np.zeros((CFG.num_mels, frames), np.float32))
    facts_of = lambda files: gather_facts(files, ReadSettings(CFG.sampling_rate), progress=False)  # noqa: E731
    with pytest.raises(HifiganError, match=r"has the stem of .*spk1/000\.wav: both would take the mel .*000\.npy") as e:
        scan_corpus(Corpus(folder=tmp_path / "wavs", valid_count=1), CFG, facts_of, input_mels=tmp_path / "mels")
    assert e.value.path == str(tmp_path / "wavs" / "spk2" / "000.wav")


def test_missing_teacher_forced_mel_is_an_error(tmp_path, tiny_corpus):
    files = find_audio(tiny_corpus, recursive=True)
    with pytest.raises(HifiganError, match=f"{len(files)} of {len(files)} inputs are bad .*clip00.npy: no such file"):
        quiet_scan(files, input_mels=tmp_path)


def test_a_missing_mel_names_the_file_meant_when_it_differs_in_case_or_sits_in_a_subfolder(tmp_path, tiny_corpus):
    """--input-mels looks for <folder>/<stem>.npy: a mel whose name differs only in case, or that sits in a subfolder,
    is still "no such file", with a hint at the file found; a mel found nowhere has none."""
    files = find_audio(tiny_corpus)[:3]
    frontend = MelSpectrogram(**CFG.mel_kwargs())
    mels = tmp_path / "mels"
    (mels / "sub").mkdir(parents=True)
    for path, name in zip(files, ["CLIP00.npy", "sub/clip01.npy"]):
        np.save(mels / name, frontend(torch.from_numpy(load_audio(path))).numpy())
    with pytest.raises(HifiganError) as caught:
        quiet_scan(files, input_mels=mels)
    assert split_problems(str(caught.value)) == [
        f"{mels / 'clip00.npy'}: no such file (a file differing in case: CLIP00.npy)",
        f"{mels / 'clip01.npy'}: no such file (found in {mels / 'sub' / 'clip01.npy'}: --input-mels takes a flat "
        "folder)",
        f"{mels / 'clip02.npy'}: no such file"]


def test_an_input_mels_folder_that_is_not_there_is_one_line(tmp_path, capsys, tiny_corpus, tiny_config_json):
    """--input-mels naming no folder (a typo, a file), or a resumed run whose mel folder has moved: one line naming
    the folder (resuming: and the option that gives its new place), not each clip's mel as "no such file"."""
    mels, out = tmp_path / "mels", tmp_path / "run"
    for given, problem in ((mels, "no such folder"), (tiny_corpus / "clip00.wav", "is not a folder")):
        code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                           "--input-mels", given, "--max-steps", 1)
        assert failed_cleanly(code, err, out) == f"hifigan train: error: {given}: {problem} (--input-mels)"
    mels.mkdir()
    frontend = MelSpectrogram(**CFG.mel_kwargs())
    for path in find_audio(tiny_corpus):
        np.save(mels / f"{path.stem}.npy", frontend(torch.from_numpy(load_audio(path))).numpy())
    code, _, err = run(capsys, "train", "--corpus", tiny_corpus, "--config", tiny_config_json, "-o", out,
                       "--input-mels", mels, "--max-steps", 0, "--valid-count", 0, "--validation-interval", 0,
                       "--no-progress")  # the initial weights only, no validation: cheap
    assert code == 0, err
    mels.rename(tmp_path / "moved")
    code, _, err = run(capsys, "train", "--resume", out, "--max-steps", 1)
    assert code == 2 and one_line(err) == (f"hifigan train: error: {mels}: no such folder (the run's --input-mels: "
                                           "moved? give its new place with --input-mels DIR)")


def test_a_missing_mel_names_a_mel_named_after_the_audio_file(tmp_path, tiny_corpus):
    """A mel saved as <audio name>.npy (clip00.wav.npy: some TTS tools' GTA export) is not <stem>.npy: still "no such
    file", with the file found named and what to do."""
    files = find_audio(tiny_corpus)[:1]
    mels = tmp_path / "mels"
    mels.mkdir()
    np.save(mels / "clip00.wav.npy", MelSpectrogram(**CFG.mel_kwargs())(torch.from_numpy(load_audio(files[0]))).numpy())
    with pytest.raises(HifiganError) as caught:
        quiet_scan(files, input_mels=mels)
    assert str(caught.value) == (f"{mels / 'clip00.npy'}: no such file (found clip00.wav.npy: --input-mels takes "
                                 "<stem>.npy, without the audio's extension: rename the mels)")


def test_a_mel_that_is_there_but_unreadable_gets_no_hint(tmp_path):
    """The hint is for a missing mel: one that exists (and failed to read) is not called its own case twin."""
    (tmp_path / "a.npy").write_bytes(b"not a mel")
    error = HifiganError(tmp_path / "a.npy", "not a .npy file")
    assert MelFolder(tmp_path, cli=True).explained(error, tmp_path / "a.npy") is error
