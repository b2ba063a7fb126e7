"""The public names python-api.md lists are the package's `__all__`, each documented."""

import re

import hifigan
from tests.support.files import REPO


def _listed() -> set[str]:
    """The `names` of python-api.md's "Public names" paragraph (the one ending in `HifiganError`)."""
    page = (REPO / "docs" / "python-api.md").read_text()
    section = page.split("## Public names", 1)[1]
    paragraph = section[: section.index("`HifiganError`") + len("`HifiganError`")]
    return set(re.findall(r"`(\w+)`", paragraph))


def test_the_documented_public_names_are_all_of_them():
    """Nothing tied the page's list to `hifigan.__all__`: a name added to one was missing from the other unseen."""
    assert _listed() - {"hifigan"} | {"__version__"} == set(hifigan.__all__)  # "from `hifigan` itself"
    names = [n for n in hifigan.__all__ if n != "__version__"]
    assert [n for n in names if not (getattr(hifigan, n).__doc__ or "").strip()] == []


def test_every_lazy_name_of_a_package_resolves():
    """hifigan.inference listed resolve_device, lazily, from a module that no longer defines it: the name raised
    AttributeError on first use, and nothing looked up every name of a package's `__all__`."""
    import hifigan.inference

    for package in (hifigan, hifigan.inference):
        assert [n for n in package.__all__ if not hasattr(package, n)] == [], package.__name__
