"""The random choices of one generated document: which URLs its sites fetch, how its
attributes and tags are spelled, and whether its `<base href>` points at a tracker."""

from __future__ import annotations

import random

from . import spellings
from .spellings import TrackerUrl, attribute, mixed_case

JS_TYPES = (
    "text/javascript",
    "TEXT/JavaScript",
    " text/javascript ",
    "application/javascript",
    "application/ecmascript",
    "application/x-javascript",
    "text/ecmascript",
    "text/jscript",
    "text/livescript",
    "text/x-javascript",
    "text/x-ecmascript",
    *(f"text/javascript1.{n}" for n in range(6)),
    "",
    "module",
    "MODULE",
)


# Harmless values for a duplicated attribute.
_DECOYS = {"type": "text/plain", "rel": "author", "http-equiv": "x-dns-prefetch-control"}


class Writer:
    """Random choices for one document: its base URL mode and the URLs its sites fetch."""

    def __init__(self, rng: random.Random, depth: int = 0) -> None:
        self.rng = rng
        self.depth = depth
        self.base: TrackerUrl | None = None  # set when <base href> points at a tracker

    def url(self, kind: str) -> str:
        rng = self.rng
        roll = rng.random()
        if self.base is not None and roll < 0.25:
            return spellings.relative(rng, self.base)
        if roll < 0.7:
            return spellings.spell(rng, spellings.tracker_url(rng, kind))
        return spellings.first_party_url(rng, kind)

    def attr(self, name: str, value: str) -> str:
        """The attribute, now and then with a duplicate: the tokenizer keeps the first."""
        text = attribute(self.rng, name, value)
        roll = self.rng.random()
        if roll < 0.05:  # a later duplicate is dropped: `value` still counts
            return text + attribute(self.rng, name, _DECOYS.get(name, "/static/img/a.png"))
        if roll < 0.08:  # an earlier duplicate wins: `value` is ignored
            return attribute(self.rng, name, _DECOYS.get(name, "/static/img/a.png")) + text
        return text

    def tag(self, name: str) -> str:
        return mixed_case(self.rng, name)

    def end(self, name: str) -> str:
        closer = self.rng.choice((">", ">", ">", " >", "\n>", "/>", ' x=">">'))
        return f"</{self.tag(name)}{closer}"

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability


def script_type(w: Writer) -> str:
    """A type or language attribute that still runs the script (or none)."""
    roll = w.rng.random()
    if roll < 0.5:
        return ""
    if roll < 0.88:
        return w.attr("type", w.rng.choice(JS_TYPES))
    return w.attr("language", w.rng.choice(("javascript", "JavaScript1.2", "")))
