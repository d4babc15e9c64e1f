"""Personal data: national ID numbers (居民身份证号码, GB 11643) and mobile phone numbers.

A national ID is never stored, logged, published or returned whole. Services keep a keyed
hash (HMAC-SHA256, for uniqueness and look-up) and a masked form (for people to recognise).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

from relocation_shared.clock import business_today, system_clock

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# ASCII only: numbers typed in full-width digits (a Chinese IME) are normalised (NFKC) first.
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")

# Free text is matched on a folded copy of itself, one character for one, so a match's positions
# are the original text's too: any Unicode decimal digit reads as its ASCII digit (full-width
# "１３９…" typed with a Chinese IME, as `\d` would take them), full-width ASCII (＋, －, letters)
# and the ideographic space as their ASCII forms (as NFKC reads them). The patterns below then
# say `[0-9]`, and their letter and digit boundaries hold for full-width text as well.


class _Folding(dict[int, int]):
    """A str.translate table filled in as characters are met."""

    def __missing__(self, code: int) -> int:
        digit = unicodedata.decimal(chr(code), None)
        if digit is not None:
            folded = 0x30 + digit
        elif 0xFF01 <= code <= 0xFF5E:
            folded = code - 0xFEE0
        elif code == 0x3000:
            folded = 0x20
        else:
            folded = code
        self[code] = folded
        return folded


_FOLD = _Folding()

# Anything that looks like an 18-character ID number or a mainland mobile number, in free text.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
# A mobile number, with or without the country code (+86, 0086, 86) and with spaces or hyphens
# between its groups (139 1234 5678). Bounded by letters too: the 12-hex-digit tail of a UUID
# ("-13912345678a") is not a phone number.
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])((?:(?:\+|00)?86[ \-]?)?1[3-9][0-9])[ \-]?[0-9]{4}[ \-]?([0-9]{4})(?![0-9A-Za-z])"
)


def _fold(text: str) -> str:
    """Digits, full-width ASCII and the ideographic space as ASCII, character for character."""
    return text if text.isascii() else text.translate(_FOLD)


def _mask(pattern: re.Pattern[str], text: str, stars: str) -> str:
    """Each match of `pattern` in the folded text, masked in the original between groups 1 and 2."""
    out: list[str] = []
    last = 0
    for m in pattern.finditer(_fold(text)):
        out += [text[last : m.start()], text[m.start(1) : m.end(1)], stars, text[m.start(2) : m.end(2)]]
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _normal(text: str) -> str:
    """Full-width digits and letters as ASCII, surrounding space off, upper case (the X)."""
    return unicodedata.normalize("NFKC", text).strip().upper()


class InvalidNationalId(ValueError):
    """The text is not a valid 18-character national ID number."""


@dataclass(frozen=True)
class NationalId:
    """A validated national ID number. Its `repr` and `str` never show the whole number."""

    _value: str

    @property
    def region_code(self) -> str:
        return self._value[:6]

    @property
    def birth_date(self) -> date:
        v = self._value
        return date(int(v[6:10]), int(v[10:12]), int(v[12:14]))

    @property
    def sex(self) -> str:
        """'male' or 'female', from the parity of the 17th digit."""
        return "male" if int(self._value[16]) % 2 else "female"

    @property
    def masked(self) -> str:
        return mask_national_id(self._value)

    def keyed_hash(self, key: bytes) -> str:
        return hmac.new(key, self._value.encode(), hashlib.sha256).hexdigest()

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"NationalId({self.masked})"


# The provinces of GB/T 2260 whose residents hold 18-digit mainland ID numbers: 11-15 (North),
# 21-23 (North-east), 31-37 (East), 41-46 (South Central), 50-54 (South-west), 61-65
# (North-west). 71 (Taiwan), 81 and 82 (Hong Kong, Macao) are not issued to mainland residents.
PROVINCE_CODES = frozenset(
    f"{p}"
    for first, last in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65))
    for p in range(first, last + 1)
)


def check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_national_id(text: str, *, today: date | None = None) -> NationalId:
    """Validate shape, birth date (not before 1900, not after `today`, by default today in China),
    the province of the region code (PROVINCE_CODES) and the GB 11643 check digit; raise
    InvalidNationalId."""
    value = _normal(text)
    if not _ID_SHAPE.match(value):
        raise InvalidNationalId("身份证号码应为18位,前17位为数字,末位为数字或X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidNationalId("身份证号码中的出生日期无效") from exc
    if born.year < 1900 or born > (today or business_today(system_clock)):
        raise InvalidNationalId("身份证号码中的出生日期无效")
    if value[:2] not in PROVINCE_CODES:
        raise InvalidNationalId("身份证号码中的地区码无效")
    if check_digit(value[:17]) != value[17]:
        raise InvalidNationalId("身份证号码校验位错误")
    return NationalId(value)


def mask_national_id(value: str) -> str:
    """Keep the first 6 (region) and last 4 characters: 520330********123X."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: enough for a cadre to recognise, not to identify."""
    return name[:1] + "*" * max(1, len(name) - 1)


def mask_phone(value: str) -> str:
    """138****5678."""
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def keyed_hash(value: str, key: bytes) -> str:
    return hmac.new(key, _normal(value).encode(), hashlib.sha256).hexdigest()


def scrub(text: str) -> str:
    """Mask every ID-number-like and mobile-number-like run in free text."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _mask(_ID_IN_TEXT, text, "********")
    return _mask(_PHONE_IN_TEXT, text, "****")


def contains_pii(text: str) -> bool:
    folded = _fold(text)
    return bool(_ID_IN_TEXT.search(folded) or _PHONE_IN_TEXT.search(folded))


NO_PII_MESSAGE = "不得填写身份证号码或手机号码(联系方式请登记在居民信息中)"


def refuse_pii(value: str | None) -> str | None:
    """A validator for free text bound for state and events: an ID or phone number in it is bad
    input (a 422 naming the field), not something to store, publish or log."""
    if value is not None and contains_pii(value):
        raise ValueError(NO_PII_MESSAGE)
    return value


# Characters that change how text around them is shown without being seen: the bidirectional
# embeddings, overrides and isolates (a name or a note displayed backwards, "Trojan source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Never part of a person's name: control (NUL, escape...), format (zero-width, bidi), surrogate,
# private-use and unassigned characters, line and paragraph separators.
_NOT_IN_NAMES = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in _NOT_IN_NAMES


def refuse_hidden(value: str | None) -> str | None:
    """A validator for free text: NUL and other control characters (tab and line breaks aside),
    bidi overrides and lone surrogates are refused, and so is text made only of invisible ones."""
    if not value:
        return value
    for ch in value:
        kind = unicodedata.category(ch)
        if (kind == "Cc" and ch not in _TEXT_CONTROLS_ALLOWED) or kind == "Cs" or ch in _BIDI_CONTROLS:
            raise ValueError("不得包含控制字符或改变文字方向的字符")
    if all(_invisible(ch) for ch in value):
        raise ValueError("内容不能为空(不可见字符不算)")
    return value


# Free text that must not carry a national ID or phone number (employer, reasons, notes...), nor
# control or bidi characters.
FreeText = Annotated[str, AfterValidator(refuse_hidden), AfterValidator(refuse_pii)]

PERSON_NAME_MAX = 50


def _valid_person_name(value: str) -> str:
    name = unicodedata.normalize("NFC", value).strip()
    if all(_invisible(ch) for ch in name):
        raise ValueError("姓名不能为空(不可见字符不算)")
    if any(unicodedata.category(ch) in _NOT_IN_NAMES for ch in name):
        raise ValueError("姓名不得包含控制字符、零宽字符或改变文字方向的字符")
    if len(name) > PERSON_NAME_MAX:
        raise ValueError(f"姓名最多 {PERSON_NAME_MAX} 个字符")
    refuse_pii(name)
    return name


# A person's name in a request body (resident, dispute party, staff, mediator, secretary): NFC
# normalised and trimmed, 1-50 characters, none of them control, format (zero-width, bidi
# override), private-use or unassigned; no ID or phone number in it.
PersonName = Annotated[
    str, Field(min_length=1, max_length=PERSON_NAME_MAX, description="姓名"), AfterValidator(_valid_person_name)
]


_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def _valid_national_id(value: str) -> str:
    try:
        parse_national_id(value)
    except InvalidNationalId as exc:
        raise ValueError(str(exc)) from None
    return value.strip().upper()


def _valid_mobile(value: str) -> str:
    if not _MOBILE.match(value):
        raise ValueError("手机号码应为11位数字")
    return value


# A national ID number in a request body: shape, birth date and GB 11643 check character
# validated (a 422 naming the field otherwise). Stored only masked and as a keyed hash.
NationalIdNumber = Annotated[
    str,
    Field(min_length=1, max_length=32, description="居民身份证号码(只保存掩码和密钥散列)"),
    AfterValidator(_valid_national_id),
]
# A mainland mobile number (11 digits, 1[3-9]…). Stored only masked and as a keyed hash.
MobileNumber = Annotated[
    str, Field(max_length=20, description="手机号码(只保存掩码和密钥散列)"), AfterValidator(_valid_mobile)
]
