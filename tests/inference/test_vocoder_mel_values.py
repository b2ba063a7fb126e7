"""Every Vocoder entry point refuses a mel that is not floating point or holds NaN/inf, with the MelError `load_mel`
gives a .npy file (one check: hifigan.mel_file.checked_mel_values), naming the batch item or stream chunk."""

import numpy as np
import pytest
import torch

from hifigan.errors import MelError
from hifigan.inference.vocoder import Vocoder

T = 12


def _mel(num_mels: int) -> np.ndarray:
    return np.random.default_rng(0).normal(-5, 1, (num_mels, T)).astype(np.float32)


def _bad(mel: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    nan, inf = mel.copy(), mel.copy()
    nan[3, T - 2] = np.nan  # in the last frames: a later stream chunk
    inf[0, T - 1] = -np.inf
    return {
        "nan": (nan, "non-finite values"), "inf": (inf, "non-finite values"),
        "int32": (mel.astype(np.int32), "dtype int32, expected floating point"),
        "bool": (mel > -5, "dtype bool, expected floating point"),
        "complex": (mel.astype(np.complex64), "dtype complex64, expected floating point"),
        "overflow": (mel.astype(np.float64) * 1e300, "beyond the float32 range"),
    }


ENTRIES = {
    "call": (lambda v, m, good: v(m), ""),
    "call-batch": (lambda v, m, good: v(m[None]), ""),  # [1, num_mels, T]
    "batch": (lambda v, m, good: v.batch([good, m]), "mel 1: "),
    "chunked": (lambda v, m, good: v.chunked(m, chunk_frames=4), ""),
    "stream": (lambda v, m, good: list(v.stream([m[:, :5], m[:, 5:]])), "mel chunk 1: "),
}


@pytest.fixture(scope="module")
def vocoder(tiny_checkpoint):
    return Vocoder.from_checkpoint(tiny_checkpoint)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("kind", ["nan", "inf", "int32", "bool", "complex", "overflow"])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_every_entry_point_refuses_bad_mel_values(vocoder, entry, kind, as_tensor):
    good = _mel(vocoder.config.num_mels)
    mel, message = _bad(good)[kind]
    if as_tensor:
        mel, good = torch.as_tensor(mel), torch.as_tensor(good)
    run, prefix = ENTRIES[entry]
    if entry == "stream" and kind not in ("nan", "inf"):
        prefix = "mel chunk 0: "  # a dtype (or range) problem is in every chunk: the first one names it
    with pytest.raises(MelError, match="^" + prefix + "mel (contains|has) .*" + message.replace("(", r"\(")):
        run(vocoder, mel, good)


def test_same_check_as_load_mel(vocoder, tmp_path):
    """The CLI's .npy check and the API's say the same thing."""
    from hifigan.mel_file import load_mel

    for name, (mel, _) in _bad(_mel(vocoder.config.num_mels)).items():
        np.save(tmp_path / f"{name}.npy", mel)
        with pytest.raises(MelError) as from_file:
            load_mel(tmp_path / f"{name}.npy", vocoder.config.num_mels)
        with pytest.raises(MelError) as from_api:
            vocoder(mel)
        assert from_file.value.problem == from_api.value.problem


def test_float16_and_float64_mels_are_cast(vocoder):
    mel = _mel(vocoder.config.num_mels)
    want = vocoder(mel)
    assert want.dtype == torch.float32 and want.shape == (T * vocoder.hop_size,)
    assert torch.allclose(vocoder(mel.astype(np.float64)), want)
    assert vocoder(torch.as_tensor(mel).bfloat16()).shape == want.shape
    streamed = torch.cat(list(vocoder.stream([mel[:, :5].astype(np.float16), mel[:, 5:].astype(np.float64)])))
    assert torch.allclose(streamed, vocoder(np.concatenate([mel[:, :5].astype(np.float16), mel[:, 5:]], axis=1)))


def test_a_mel_in_another_convention_is_checked_before_its_conversion(tiny_checkpoint):
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint).set_mel_convention("log10")
    mel, _ = _bad(_mel(vocoder.config.num_mels))["int32"]  # the conversion would cast it to float64
    with pytest.raises(MelError, match="dtype int32"):
        vocoder(mel)
    with pytest.raises(MelError, match=r"^mel chunk 0: mel has dtype int32"):
        list(vocoder.stream([mel]))


def test_a_mel_of_the_wrong_shape_is_a_mel_error_and_a_value_error(vocoder):
    """One `except ValueError` (or `except MelError`) catches every bad mel: shape, dtype or values."""
    mel = _mel(vocoder.config.num_mels)
    bins = vocoder.config.num_mels
    cases = [(lambda: vocoder(mel.T), rf"^expected a mel of shape \[{bins}, T\] or \[B, {bins}, T\] with T >= 1, "
                                      rf"got \({T}, {bins}\) \(a \[T, {bins}\] mel\? "),
             (lambda: vocoder.batch([mel, mel[:3]]), rf"^mel 1: expected a mel of shape \[{bins}, T\] with T >= 1, "
                                                     rf"got \(3, {T}\)$"),
             (lambda: list(vocoder.stream([mel[:, :5], mel[:3]])),
              rf"^mel chunk 1: expected a mel of shape \[{bins}, T\] or \[1, {bins}, T\], got \(3, {T}\)$")]
    for run, message in cases:
        with pytest.raises(MelError, match=message) as caught:
            run()
        assert isinstance(caught.value, ValueError)


def test_a_transposed_mel_is_refused_with_the_layout_to_declare(tiny_checkpoint):
    """A [T, 16] mel (a TTS model's frames-first output) was only 'expected a mel of shape [16, T] or [B, 16, T]
    ..., got (12, 16)' from Python, where `hifigan vocode` says what to do: every entry point now adds the
    advice where the shape fits the other layout, naming the call that reads it (which then vocodes it). The
    convention declared here; undeclared, the call is check-mel's verdict's (test_mel_vocode_options.py)."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint).set_mel_convention("official")  # undeclared: a verdict's call
    mel = _mel(vocoder.config.num_mels)
    advice = (r" \(a \[T, 16\] mel\? swap its last two axes, or declare its layout: "
              r"set_mel_convention\('transposed'\)\)$")
    calls = [(lambda: vocoder(mel.T), r"^expected .* got \(12, 16\)"),
             (lambda: vocoder(mel.T[None]), r"^expected .* got \(1, 12, 16\)"),
             (lambda: vocoder.batch([mel, mel.T]), r"^mel 1: expected .* got \(12, 16\)"),
             (lambda: vocoder.chunked(mel.T, 4), r"^expected .* got \(12, 16\)"),
             (lambda: list(vocoder.stream([mel[:, :5], mel.T[5:]])), r"^mel chunk 1: expected .* got \(7, 16\)")]
    for run, message in calls:
        with pytest.raises(MelError, match=message + advice):
            run()
    with pytest.raises(MelError, match=r"got \(3, 12\)$"):  # fits neither layout: no advice
        vocoder(mel[:3])
    expected = vocoder(mel)
    vocoder.set_mel_convention("transposed")
    assert torch.equal(vocoder(mel.T), expected)
    with pytest.raises(MelError, match=r"got \(16, 12\) \(a \[16, T\] mel\? .*: set_mel_convention\('official'\)\)$"):
        vocoder(mel)
    assert torch.equal(vocoder.set_mel_convention("official")(mel), expected)


def test_a_tensor_is_cast_to_the_dtype_asked_and_an_overflow_refused():
    import torch

    from hifigan.errors import MelError
    from hifigan.mel_file import checked_mel_values

    assert checked_mel_values(torch.full((2, 3), 0.5), "m", torch.float16).dtype == torch.float16
    assert checked_mel_values(torch.full((2, 3), 0.5), "m", torch.float64).dtype == torch.float64
    with pytest.raises(MelError, match="beyond the float16 range"):
        checked_mel_values(torch.full((2, 3), 1e6), "m", torch.float16)


def test_a_flipped_numpy_view_vocodes_and_a_non_numeric_array_is_the_dtype_error(vocoder):
    """np.flip / [::-1] views have negative strides, which torch.as_tensor refuses (its ValueError told the caller to
    copy the array); an object array was torch's TypeError listing the numpy types it converts."""
    mel = _mel(vocoder.config.num_mels)
    flipped = np.flip(mel, axis=1)
    assert any(s < 0 for s in flipped.strides)
    want = vocoder(flipped.copy())
    assert torch.equal(vocoder(flipped), want)
    assert torch.equal(vocoder.batch([flipped])[0], want)
    assert torch.equal(torch.cat(list(vocoder.stream([flipped]))), torch.cat(list(vocoder.stream([flipped.copy()]))))
    with pytest.raises(MelError, match=r"^mel has dtype object, expected floating point$"):
        vocoder(mel.astype(object))
    with pytest.raises(MelError, match=r"^mel chunk 0: mel has dtype <U\d+, expected floating point$"):
        list(vocoder.stream([mel.astype(str)]))


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("entry", ENTRIES)
def test_a_meta_or_sparse_mel_is_a_mel_error_naming_it(vocoder, entry):
    """A meta tensor was torch's 'Tensor.item() cannot be called on meta tensors', a sparse one an aten or layout
    error from inside the value check."""
    good = torch.as_tensor(_mel(vocoder.config.num_mels))
    run, prefix = ENTRIES[entry]
    cases = [(good.to("meta"), r"meta tensor \(a shape without values\): give one that holds the mel's values"),
             (good.to_sparse(), r"sparse_coo tensor, expected a dense one \(mel.to_dense\(\)\)"),
             (good.to_sparse_csr(), r"sparse_csr tensor, expected a dense one \(mel.to_dense\(\)\)")]
    if entry == "stream":  # the test's own slicing into chunks: torch slices neither sparse layout
        cases, prefix = cases[:1], "mel chunk 0: "
    if entry == "call-batch":  # m[None]: torch indexes no CSR tensor
        cases = cases[:2]
    for mel, message in cases:
        with pytest.raises(MelError, match="^" + prefix + "mel is a " + message + "$"):
            run(vocoder, mel, good)


@pytest.mark.parametrize("convention", [None, "log10"])
def test_a_mel_of_one_frame_vocodes_at_every_entry_point(tiny_checkpoint, convention):
    """T >= 1 is the least: a one-frame mel is one hop of audio, with or without a convention's conversion."""
    vocoder = Vocoder.from_checkpoint(tiny_checkpoint).set_mel_convention(convention)
    mel, hop = _mel(vocoder.config.num_mels)[:, :1], vocoder.config.hop_size
    assert vocoder(mel).shape == (hop,) and vocoder(mel[None]).shape == (1, hop)
    assert vocoder.batch([mel])[0].shape == (hop,) and vocoder.chunked(mel, chunk_frames=1).shape == (hop,)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
def test_a_nested_mel_tensor_is_a_mel_error_naming_it():
    """A nested tensor (torch.nested: its layout is torch.strided, yet it holds no dense values) is named as such,
    not torch's error from inside the value check."""
    import torch

    from hifigan.errors import MelError
    from hifigan.mel_file import checked_mel_values

    mel = torch.nested.nested_tensor([torch.zeros(4, 5), torch.zeros(4, 7)])
    with pytest.raises(MelError, match=r"^m: mel is a nested tensor, expected a dense one \(mel.to_dense\(\)\)$"):
        checked_mel_values(mel, "m")


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_a_nested_mel_tensor_is_a_mel_error_at_every_entry_point(vocoder, entry, layout):
    """Was torch's RuntimeError 'Internal error: NestedTensorImpl doesn't support sizes' (a jagged one: a shape
    error, '(2, j1, T)') from the shape check, which ran before the check that names a nested tensor."""
    good = torch.as_tensor(_mel(vocoder.config.num_mels))
    nested = torch.nested.nested_tensor([good, good[:, :5]], layout=getattr(torch, layout))
    run, prefix = ENTRIES[entry]
    if entry in ("call-batch", "stream"):  # the test's own m[None] and slicing into chunks: as one chunk instead
        run, prefix = (lambda v, m, good: list(v.stream([m]))), "mel chunk 0: "
    message = r"mel is a nested tensor, expected a dense one \(mel.to_dense\(\)\)$"
    with pytest.raises(MelError, match=f"^{prefix}{message}"):
        run(vocoder, nested, good)


@pytest.mark.parametrize("as_tensor", [True, False])
def test_a_mel_already_of_the_dtype_asked_is_checked_in_one_pass(as_tensor):
    """Before: the values were checked for NaN and inf, cast, and checked again though the cast returned the same
    array (float32 to float32: every mel a server or a float32 Vocoder gets), a second pass over each stream window
    in the server's worker. A cast still has its overflow checked."""
    from hifigan.mel_file import _all_finite, checked_mel_values
    from tests.support.calls import python_calls

    mel = np.full((2, 3), 0.5, dtype=np.float32)
    mel, same, wider = (torch.from_numpy(mel), torch.float32, torch.float64) if as_tensor else (mel, np.float32,
                                                                                                np.float64)
    name = f"{_all_finite.__module__}.{_all_finite.__qualname__}"
    assert python_calls(lambda: checked_mel_values(mel, "m", same))[name] == 1
    assert python_calls(lambda: checked_mel_values(mel, "m", wider))[name] == 2
    assert checked_mel_values(mel, "m", same) is mel


@pytest.mark.parametrize(("thing", "name"), [(None, "NoneType"), ("mel.npy", "str"), ({"mel": 1}, "dict"),
                                             ([[1.0, 2.0], [3.0]], "list torch cannot convert")])
def test_what_is_no_mel_is_a_mel_error_naming_it(vocoder, thing, name):
    """A TTS queue's None end marker pushed as a chunk (or a path, a dict, a ragged list) was torch's RuntimeError
    'Could not infer dtype of NoneType' (a TypeError, a ValueError), naming no chunk; lists of numbers still vocode."""
    good = _mel(vocoder.config.num_mels)
    message = rf"expected a mel \(a tensor or numpy array\), got {name}$"
    with pytest.raises(MelError, match="^" + message):
        vocoder(thing)
    with pytest.raises(MelError, match="^mel 1: " + message):
        vocoder.batch([good, thing])
    with pytest.raises(MelError, match="^mel chunk 1: " + message):
        list(vocoder.stream([good, thing]))
    assert torch.equal(vocoder(good.tolist()), vocoder(good))


@pytest.mark.parametrize("as_tensor", [True, False])
def test_a_whole_mel_given_to_stream_is_refused_at_the_call(vocoder, as_tensor):
    """stream(mel) iterated the mel's rows, each a 1-D 'mel chunk 0' of the wrong shape at the first chunk; a [1,
    num_mels, T] mel (its one chunk) and a list of chunks still stream."""
    mel = _mel(vocoder.config.num_mels)
    given = torch.as_tensor(mel) if as_tensor else mel
    bins = vocoder.config.num_mels
    with pytest.raises(MelError, match=rf"^stream takes an iterable of mel chunks, got one mel of shape "
                                       rf"\({bins}, {T}\): vocoder\(mel\) vocodes it whole, vocoder.stream\(\[mel\]\) "
                                       "streams it as one chunk$"):
        vocoder.stream(given)
    assert torch.equal(torch.cat(list(vocoder.stream(given[None]))), vocoder(mel))


@pytest.mark.parametrize("as_tensor", [True, False])
def test_a_whole_mel_given_to_batch_is_refused_as_one_mel(vocoder, as_tensor):
    """batch(mel) iterated the mel's rows: `mel 0: expected a mel of shape [bins, T] with T >= 1, got (T,)`, as if
    the caller had given T-frame 1-D mels; a [B, num_mels, T] batch (its rows are mels) still vocodes."""
    mel = _mel(vocoder.config.num_mels)
    given = torch.as_tensor(mel) if as_tensor else mel
    bins = vocoder.config.num_mels
    with pytest.raises(MelError, match=rf"^batch takes a sequence of mels, got one mel of shape \({bins}, {T}\): "
                                       r"vocoder\(mel\) vocodes it, vocoder.batch\(\[mel\]\) as a batch of one$"):
        vocoder.batch(given)
    assert torch.equal(vocoder.batch(given[None])[0], vocoder(mel))
