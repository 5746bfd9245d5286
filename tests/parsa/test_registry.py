"""The registry holds every resolver to its own examples (gallery-dl's extractor test)."""
from __future__ import annotations

import pytest

from parsa import resolvers
from parsa.resolvers import RESOLVERS, classify, find_resolver, normalize

EXAMPLES = [(module, example) for module in RESOLVERS for example in module.examples]


def test_every_resolver_declares_its_parts():
    for module in RESOLVERS:
        assert module.type in {"reddit", "imgur", "booru", "generic"}, module.__name__
        assert module.pattern.pattern and module.examples, module.__name__
        assert callable(module.resolve), module.__name__


@pytest.mark.parametrize("module,example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_example_matches_its_own_resolver_and_no_other(module, example):
    url = normalize(example)
    assert module.pattern.match(url), f"{module.__name__} does not match its example"
    others = [m.__name__ for m in RESOLVERS if m is not module and m.pattern.match(url)]
    assert others == []
    assert find_resolver(example) is module
    assert classify(example) == module.type


@pytest.mark.parametrize("raw,expected", [
    ("  https://www.reddit.com/gallery/huw6vs  ", "https://www.reddit.com/gallery/huw6vs"),
    ("http://old.reddit.com/r/pics/comments/abc123/", "https://www.reddit.com/r/pics/comments/abc123/"),
    ("https://np.reddit.com/r/pics/comments/abc123/", "https://www.reddit.com/r/pics/comments/abc123/"),
    ("https://m.reddit.com/r/pics/comments/abc123/", "https://www.reddit.com/r/pics/comments/abc123/"),
    ("reddit.com/gallery/abc123", "https://www.reddit.com/gallery/abc123"),
    ("/r/pics/comments/abc123/title/", "https://www.reddit.com/r/pics/comments/abc123/title/"),
    ("//i.imgur.com/abcdefg.jpg", "https://i.imgur.com/abcdefg.jpg"),
    ("http://i.redd.it/x1y2z3.png", "https://i.redd.it/x1y2z3.png"),
    ("https://m.imgur.com/a/5F5Cy", "https://imgur.com/a/5F5Cy"),
    ("https://preview.redd.it/a.jpg?width=1&amp;s=2", "https://preview.redd.it/a.jpg?width=1&s=2"),
    ("https://x.org/a.jpg?a=1&amp;amp;b=2", "https://x.org/a.jpg?a=1&b=2"),
    ("HTTPS://Example.COM/Path/Pic.JPG", "https://example.com/Path/Pic.JPG"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("url,kind", [
    ("https://i.redd.it/pb7qsvi6i3c51.png", "reddit"),
    ("https://preview.redd.it/pb7qsvi6i3c51.png?width=108&crop=smart&auto=webp&s=abc", "reddit"),
    ("https://old.reddit.com/r/test/comments/huw6vs/", "reddit"),
    ("https://redd.it/huw6vs", "reddit"),
    ("https://i.imgur.com/zVpyzhW.gifv", "imgur"),
    ("https://imgur.com/gallery/dO484", "imgur"),
    ("https://imgur.com/a/title-with-words-5F5Cy", "imgur"),
    ("https://danbooru.donmai.us/posts/4018221", "booru"),
    ("https://gelbooru.com/index.php?page=post&amp;s=view&amp;id=3837615", "booru"),
    ("https://example.com/a/b/photo.jpeg", "generic"),
    ("https://v.redd.it/abc123xyz", None),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", None),
    ("https://www.reddit.com/r/pics/", None),
    ("https://i.imgur.com/removed.png", None),
    ("https://imgur.com/user/someone", None),
    ("https://imgur.com/gallery", None),
    ("https://imgur.com/upload", None),
    ("https://example.com/page.html", None),
    ("ftp://example.com/pic.jpg", None),
    ("", None),
])
def test_classify(url, kind):
    assert classify(url) == kind


def test_unsupported_links_raise_unsupported():
    with pytest.raises(resolvers.Unsupported):
        resolvers.resolve("https://v.redd.it/abc123xyz", resolvers.Context(fetcher=_no_network))


def _no_network(*args, **kwargs):
    raise AssertionError("no request expected")
