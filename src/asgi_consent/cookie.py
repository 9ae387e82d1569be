"""The visitor's choice (`Consent`) and the signed cookie that carries it."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import formatdate

from itsdangerous import BadData, TimestampSigner
from itsdangerous.encoding import base64_decode, bytes_to_int

from .config import NECESSARY, ConsentConfig
from .memo import Memo

# Our own salt: a Starlette session cookie signed with the same secret key (salt
# "cookie-session") can never pass as a consent cookie, nor the other way round.
SALT = "asgi-consent.choice.v1"
_FORMAT = "c1"  # the visitor answered the banner
# Only grants from embed placeholders: the banner's question is still open.
_GRANTS_ONLY = "g1"
_SEPARATOR = "~"


class Consent:
    """What the visitor chose, as read from their signed cookie.

    Available in every request as `request.state.consent` (`scope["state"]["consent"]`)::

        if request.state.consent.allows("analytics"):
            send_server_side_event(...)

    A visitor without a valid cookie has `decided == False` and only `necessary`. A visitor
    who only clicked "Allow and load" on an embed has that category granted and is still
    undecided: the banner keeps asking about everything else.
    """

    __slots__ = ("_categories", "_revision", "_given_at", "_consent_id", "_decided")

    def __init__(
        self,
        categories: Iterable[str] = (),
        *,
        revision: int | None = None,
        given_at: datetime | None = None,
        consent_id: str | None = None,
        decided: bool = True,
    ) -> None:
        self._categories = frozenset(categories) | {NECESSARY}
        self._revision = revision
        self._given_at = given_at
        self._consent_id = consent_id
        self._decided = decided and given_at is not None

    @property
    def decided(self) -> bool:
        """True once the visitor answered the banner (accept, reject or a selection); a
        grant from an embed placeholder alone leaves the question open."""
        return self._decided

    @property
    def recorded(self) -> bool:
        """True once the cookie holds anything: a choice, or a placeholder's grant."""
        return self._given_at is not None

    @property
    def categories(self) -> frozenset[str]:
        """The granted categories; always includes `necessary`."""
        return self._categories

    @property
    def revision(self) -> int | None:
        """The policy revision the choice was made under, `None` before a choice."""
        return self._revision

    @property
    def given_at(self) -> datetime | None:
        """When the choice was made (UTC), `None` before a choice."""
        return self._given_at

    @property
    def consent_id(self) -> str | None:
        """A random id of this choice, to quote in a consent log; `None` before a choice."""
        return self._consent_id

    def allows(self, category: str) -> bool:
        """Whether scripts of `category` may run: `necessary` always may."""
        return category in self._categories

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Consent):
            return NotImplemented
        return self._key() == other._key()

    def _key(self) -> tuple[object, ...]:
        return (self.categories, self.revision, self.given_at, self.consent_id, self.decided)

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if not self.recorded:
            return "Consent(decided=False)"
        return (
            f"Consent(categories={sorted(self.categories)!r}, revision={self.revision}, "
            f"given_at={self.given_at!r}, consent_id={self.consent_id!r}"
            f"{'' if self.decided else ', decided=False'})"
        )


NO_CHOICE = Consent()


class _DeferredConsent(Consent):
    """A `Consent` whose cookie is verified on first use.

    Verifying a signature costs about as much as a small request; most responses
    (JSON, files) never need it. The slots of `Consent` stay empty until the first
    attribute read, which lands in `__getattr__`, decodes and fills them.
    """

    __slots__ = ("_codec", "_headers")

    def __init__(self, codec: ConsentCodec, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self._codec = codec
        self._headers = headers

    def __getattr__(self, name: str) -> object:
        if name not in Consent.__slots__:
            raise AttributeError(name)
        value = self._codec.read(self._headers)
        for slot in Consent.__slots__:
            object.__setattr__(self, slot, object.__getattribute__(value, slot))
        return object.__getattribute__(self, name)


class _ClockedSigner(TimestampSigner):
    def __init__(self, *args: object, clock: Callable[[], float], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock())


class ConsentCodec:
    """Signs and verifies consent cookie values.

    The first secret key signs; every key verifies (rotation: put the new key first,
    keep the old one after it for `expiry_days`, then drop it). The signature's max
    age is `expiry_days`, like the cookie's Max-Age. The payload is compact:
    ``c1~<revision>~<category>.<category>~<consent id>`` plus timestamp and signature;
    ``g1`` instead of ``c1`` marks grants from embed placeholders before any answer.

    HttpOnly, except under `cacheable_html`, where the page is the same for everyone and
    the browser reads the choice from the cookie (static/consent-cache.js). What a page
    script can then read is exactly that payload: the granted categories, the policy
    revision, the signing time (hence the expiry) and the random consent id; never the
    key. A script cannot check the signature, so a forged value only changes what that
    visitor's own browser runs; the server still verifies it for everything it decides.
    """

    def __init__(self, config: ConsentConfig, *, clock: Callable[[], float] = time.time) -> None:
        # itsdangerous signs with the *last* key of its list and tries them newest first.
        self._signer = _ClockedSigner(
            list(reversed(config.secret_keys)),
            salt=SALT,
            digest_method=hashlib.sha256,
            clock=clock,
        )
        self._clock = clock
        self.cookie_name = config.cookie_name.encode()
        self._value_pattern = value_pattern(self.cookie_name)
        # Cookie value -> (its Consent, signed at), or None when it is not valid. The
        # same string always verifies the same way; only its age changes, and that is
        # checked on every use. Values come from visitors: decode() takes no longer ones.
        self._verified: Memo[str, tuple[Consent, float] | None] = Memo(
            size=4096, longest=MAX_VALUE_LENGTH
        )
        self._revision = config.policy_revision
        self._known = frozenset(config.category_names)
        self._max_age = config.max_age
        self.http_only = not config.cacheable_html  # see the class docstring
        # cacheable_html: the signing key's public tag as a fifth field, so the page's
        # script can tell our cookie from one another site signed (see key_tag).
        self._key_tag = key_tag(config.secret_keys[0]) if config.cacheable_html else None
        self._key_tags = frozenset(key_tag(key) for key in config.secret_keys)

    def encode(
        self, categories: Iterable[str], *, consent_id: str | None = None, decided: bool = True
    ) -> str:
        """A signed cookie value; `decided=False` for grants that leave the banner asking."""
        return self.issue(categories, consent_id=consent_id, decided=decided)[0]

    def issue(
        self, categories: Iterable[str], *, consent_id: str | None = None, decided: bool = True
    ) -> tuple[str, Consent]:
        """A signed cookie value (as `encode`) and the `Consent` it holds, the same as
        `decode` would read from it, without verifying the signature just made."""
        granted = sorted((set(categories) & self._known) - {NECESSARY})
        consent_id = consent_id or secrets.token_urlsafe(9)
        fmt = _FORMAT if decided else _GRANTS_ONLY
        fields = [fmt, str(self._revision), ".".join(granted), consent_id]
        if self._key_tag is not None:
            fields.append(self._key_tag)
        value = self._signer.sign(_SEPARATOR.join(fields)).decode("ascii")
        # When it was signed, read back from itsdangerous' "value.timestamp.signature".
        signed_at = bytes_to_int(base64_decode(value.rsplit(self._signer.sep.decode(), 2)[1]))
        consent = Consent(
            granted,
            revision=self._revision,
            given_at=datetime.fromtimestamp(signed_at, UTC),
            consent_id=consent_id,
            decided=decided,
        )
        # The visitor's next request brings this value back: known, it is not verified again.
        self._verified.get(value, lambda _: (consent, float(signed_at)))
        return value, consent

    def decode(self, raw: str | None) -> Consent:
        """The consent in a cookie value; `NO_CHOICE` for anything not valid now."""
        if not raw or len(raw) > MAX_VALUE_LENGTH:
            return NO_CHOICE
        verified = self._verified.get(raw, self._verify)
        if verified is None:
            return NO_CHOICE
        consent, signed_at = verified
        age = self._clock() - signed_at
        if age > self._max_age or age < -300:  # expired, or from the future beyond skew
            return NO_CHOICE
        return consent

    def _verify(self, raw: str) -> tuple[Consent, float] | None:
        try:
            # Age checked by decode(), not by itsdangerous: it refuses any negative age,
            # and servers behind one load balancer may disagree on the time by a second.
            signed, signed_at = self._signer.unsign(raw, return_timestamp=True)
            fields = signed.decode("ascii").split(_SEPARATOR)
            # A fifth field, the key's tag, is for the page's script: the signature
            # already proved the key here.
            fmt, revision, granted, consent_id = fields[:4] if len(fields) == 5 else fields
        except (BadData, UnicodeDecodeError, ValueError):
            return None
        if len(fields) == 5 and fields[4] not in self._key_tags:
            return None
        if fmt not in (_FORMAT, _GRANTS_ONLY) or revision != str(self._revision):
            return None
        if not consent_id:
            return None
        names = frozenset(granted.split(".")) if granted else frozenset()
        consent = Consent(
            names & self._known,
            revision=self._revision,
            given_at=signed_at.astimezone(UTC),
            consent_id=consent_id,
            decided=fmt == _FORMAT,
        )
        return consent, signed_at.timestamp()

    def read(self, headers: Iterable[tuple[bytes, bytes]]) -> Consent:
        """The `Consent` in a request's Cookie headers. Several values of our cookie (one
        planted by a sibling subdomain on the parent domain, say) give the most
        restrictive of the valid ones; more than `MAX_CONSENT_VALUES` give no choice."""
        values = cookie_values(
            headers, self.cookie_name, MAX_CONSENT_VALUES + 1, pattern=self._value_pattern
        )
        if len(values) > MAX_CONSENT_VALUES:
            return NO_CHOICE
        if len(values) == 1:
            return self.decode(values[0])
        return most_restrictive(self.decode(value) for value in values)

    def deferred(self, headers: Iterable[tuple[bytes, bytes]]) -> Consent:
        """The `Consent` in a request's Cookie headers, read and verified on first use."""
        return _DeferredConsent(self, headers)

    def expires_at(self, consent: Consent) -> datetime | None:
        if consent.given_at is None:
            return None
        return datetime.fromtimestamp(consent.given_at.timestamp() + self._max_age, UTC)


# More values than this of our cookie (planted by sibling subdomains, each on its own
# path) is no choice at all: verifying them all would let a visitor's header cost us.
MAX_CONSENT_VALUES = 8
# Longer values are not ours (ours are about 80 characters) and are never verified.
MAX_VALUE_LENGTH = 1024


def value_pattern(name: bytes) -> re.Pattern[bytes]:
    """The regex that finds the values of cookie `name` (see `cookie_values`)."""
    # Anchored at a ";" (or the start): one pass of the regex engine, linear in the header.
    return re.compile(rb"(?:^|;)[ \t]*" + re.escape(name) + rb"[ \t]*=([^;]*)")


def cookie_values(
    headers: Iterable[tuple[bytes, bytes]],
    name: bytes,
    limit: int,
    *,
    pattern: re.Pattern[bytes] | None = None,
) -> list[str | None]:
    """The values of every cookie called `name` in the Cookie header(s), in order, at
    most `limit` of them (None for a value that is not ASCII). Linear in the headers.
    `pattern` is `value_pattern(name)`, compiled once by a caller that asks often."""
    found: list[str | None] = []
    pattern = pattern or value_pattern(name)
    for key, value in headers:
        if key != b"cookie" or name not in value:
            continue
        for match in pattern.finditer(value):
            raw = match.group(1).strip(b' \t"')
            found.append(raw.decode("ascii") if raw.isascii() else None)
            if len(found) >= limit:
                return found
    return found


def read_cookie(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The value of the first cookie `name` in the request's Cookie header(s)."""
    values = cookie_values(headers, name, 1)
    return values[0] if values else None


def most_restrictive(choices: Iterable[Consent]) -> Consent:
    """One consent from several valid ones: only what every one of them grants, and
    decided only if every one of them is."""
    valid = [choice for choice in choices if choice.recorded]
    if not valid:
        return NO_CHOICE
    base = min(valid, key=lambda choice: (choice.decided, len(choice.categories)))
    granted = frozenset.intersection(*(choice.categories for choice in valid))
    if granted == base.categories:
        return base
    return Consent(
        granted,
        revision=base.revision,
        given_at=base.given_at,
        consent_id=base.consent_id,
        decided=base.decided,
    )


_NAME = re.compile(rb"(?:^|;)[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*(?:=|;|$)")
# Browsers keep at most 180 cookies per domain: more names than this are not a browser's.
MAX_COOKIE_NAMES = 256


def cookie_names(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Names of the cookies the request carries, once each and at most
    `MAX_COOKIE_NAMES` (for expiring refused ones). Only names that can be written back
    in a Set-Cookie header are listed. Linear in the headers: the scan and the
    de-duplication run in C."""
    names: dict[bytes, None] = {}
    for key, value in headers:
        if key == b"cookie":
            names.update(dict.fromkeys(_NAME.findall(value)))
    return [name.decode("ascii") for name in itertools.islice(names, MAX_COOKIE_NAMES)]


def set_cookie_header(
    name: str,
    value: str,
    *,
    max_age: int,
    secure: bool,
    samesite: str,
    domain: str | None = None,
    path: str = "/",
    http_only: bool = True,
    clock: Callable[[], float] = time.time,
) -> bytes:
    parts = [f"{name}={value}", f"Max-Age={max_age}"]
    parts.append("Expires=" + formatdate(clock() + max_age if max_age else 0, usegmt=True))
    if domain:
        parts.append(f"Domain={domain}")
    parts.append(f"Path={path}")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    parts.append(f"SameSite={samesite.capitalize()}")
    return "; ".join(parts).encode("latin-1")


def key_tag(secret: str) -> str:
    """A public tag of one secret key (HMAC of a constant: says nothing of the key).

    Under `cacheable_html` the browser reads the cookie without checking its signature;
    the page lists the tags of the site's keys, so a cookie signed by another site on the
    same parent domain, or by a key the site has dropped, does not count there either.
    """
    return hmac.new(secret.encode(), b"asgi-consent key tag", hashlib.sha256).hexdigest()[:12]
