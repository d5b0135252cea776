"""Other spellings of one callback token: what a holder of a leaked URL can make without the secret.

A lenient base64 decoder reads many of them as the same bytes (padding, characters it skips, the standard
alphabet's ``+``/``/``, the unused low bits of the last character); a strict one accepts none. Each is a
different string from the token, so a check keyed on the exact string (the per-call binding) would not
recognise it.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["IGNORED", "percent_spellings", "token_variants"]

#: Characters a lenient base64 decoder may skip or accept: padding, URL sub-delimiters, whitespace, dots.
IGNORED = "=!$&'()*+,;:@~ \t\r\n."
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def token_variants(token: str) -> set[str]:
    """Strings that differ from ``token`` but spell it, to a lenient decoder, with 0 to 2 changes."""
    found: set[str] = set()
    for at in range(len(token) + 1):
        for extra in IGNORED:
            found.add(token[:at] + extra + token[at:])
        found.add(token[:at] + "==" + token[at:])
    for first in IGNORED:
        for second in IGNORED:
            found.add(token + first + second)
    for at, char in enumerate(token):
        swapped = {"-": "+", "_": "/"}.get(char)  # the standard alphabet's spelling of the same six bits
        if swapped is not None:
            found.add(token[:at] + swapped + token[at + 1 :])
        if char.isalpha():
            found.add(token[:at] + char.swapcase() + token[at + 1 :])
    # Every last character: those differing only in the bits past the signature's last byte decode the same.
    for char in _ALPHABET:
        found.add(token[:-1] + char)
    found.discard(token)
    return found


def percent_spellings(token: str) -> list[str]:
    """``token`` as URL paths spell it: one character percent-encoded at a time, all of them, lower-case hex,
    and with an ``=`` or ``==`` appended as ``%3D``. A server decodes these before the token is checked."""
    spellings = [token[:at] + f"%{ord(char):02X}" + token[at + 1 :] for at, char in enumerate(token)]
    spellings.append("".join(f"%{ord(char):02X}" for char in token))
    spellings.append("".join(f"%{ord(char):02x}" for char in token))
    spellings += [token + "%3D", token + "%3D%3D", token + "%3d", quote(token + "=", safe="")]
    return spellings
