"""A tiny booru post-page reader on the stdlib HTMLParser (not a resolver: danbooru and gelbooru
use it). It keeps what a Hydrus-style parser looks for: meta tags, links, the tag list,
`data-*` attributes, `<time datetime>`, the `#source` input and the page text."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

MD5 = re.compile(r"(?<![0-9a-f])([0-9a-f]{32})(?![0-9a-f])")
RATING = re.compile(r"Rating:\s*([A-Za-z]+)")
POSTED = re.compile(r"Posted:\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})")
_CONTROL_LINKS = {"?", "+", "-"}


@dataclass
class TagItem:
    kind: str  # the part after `tag-type-` (or `category-`): "artist", "3", ...
    data_name: str | None = None
    names: list[tuple[str, str]] = field(default_factory=list)  # (text, href) of each link

    def name(self) -> str | None:
        """The tag: `data-tag-name`, else the link that is not `?`/`+`/`-` (its `tags=` query
        when it has one, else its text with spaces as underscores)."""
        if self.data_name:
            return self.data_name
        for text, href in self.names:
            if text.strip() in _CONTROL_LINKS or not text.strip():
                continue
            tags = parse_qs(urlsplit(href).query).get("tags")
            return tags[0] if tags else text.strip().replace(" ", "_")
        return None


class BooruPage(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.data: dict[str, str] = {}  # first value of every data-* attribute
        self.inputs: dict[str, str] = {}  # id -> value
        self.times: list[tuple[str, str]] = []  # (datetime attribute, title) of each <time>
        self.tag_items: list[TagItem] = []
        self.text: list[str] = []
        self._item: TagItem | None = None
        self._link: list | None = None
        self._ids: list[str | None] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        for key, value in a.items():
            if key.startswith("data-") and key not in self.data:
                self.data[key] = value
        if tag == "meta":
            key = a.get("property") or a.get("name") or a.get("itemprop")
            if key and key not in self.meta:
                self.meta[key] = a.get("content", "")
        elif tag == "input" and a.get("id"):
            self.inputs.setdefault(a["id"], a.get("value", ""))
        elif tag == "time" and a.get("datetime"):
            self.times.append((a["datetime"], a.get("title", "")))
        elif tag == "li":
            kind = _tag_kind(a.get("class", ""))
            if kind is not None:
                self._item = TagItem(kind, a.get("data-tag-name") or None)
                self.tag_items.append(self._item)
        elif tag == "a":
            self._link = [a.get("href", ""), ""]
        elif tag == "br":
            self.text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, text = self._link
            self.links.append((href, text.strip()))
            if self._item is not None:
                self._item.names.append((text, href))
            self._link = None
        elif tag == "li":
            self._item = None
        if tag in ("li", "div", "p", "tr", "td"):
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._link is not None:
            self._link[1] += data

    # --- what resolvers ask for ---------------------------------------------------------------

    def link_with_text(self, text: str) -> str | None:
        wanted = text.lower()
        return next((href for href, label in self.links if label.lower() == wanted), None)

    def tags(self, namespaces: dict[str, str]) -> list[str]:
        """`namespace:name` for each tag-list item (namespace mapped; "" = unnamespaced)."""
        tags: list[str] = []
        for item in self.tag_items:
            name = item.name()
            if not name:
                continue
            namespace = namespaces.get(item.kind, item.kind)
            tag = f"{namespace}:{name}" if namespace else name
            if tag not in tags:
                tags.append(tag)
        return tags

    def rating(self) -> str | None:
        """The word after `Rating:` in the page's text, lower-cased."""
        match = RATING.search("".join(self.text))
        return match.group(1).lower() if match else None

    def posted(self) -> datetime | None:
        match = POSTED.search("".join(self.text))
        return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S") if match else None


def _tag_kind(classes: str) -> str | None:
    for name in classes.split():
        for prefix in ("tag-type-", "category-"):
            if name.startswith(prefix) and len(name) > len(prefix):
                return name[len(prefix):]
    return None


def md5_of(url: str | None) -> str | None:
    """Boorus name files by their md5: the last 32-hex-digit run in the file name."""
    if not url:
        return None
    found = MD5.findall(urlsplit(url).path.rsplit("/", 1)[-1].lower())
    return found[-1] if found else None
