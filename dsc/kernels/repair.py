"""Text repair with ftfy: the `fix_text` step of `normalize` (dsc.kernels.text dispatches to it).

ftfy (Speer, "ftfy", 2019; https://ftfy.readthedocs.io) undoes *mojibake* — UTF-8 decoded as
Latin-1 or Windows-1252, once or several times (`cafÃ©` → `café`, `â€™` → `’`) — and decodes
HTML entities left in plain text (`&amp;` → `&`, `&eacute;` → `é`; only where the text holds no
`<`, so real HTML and code are left alone: ftfy's `unescape_html="auto"`). It changes text only
where its heuristics are confident that the text is broken, so correct text in any script is left
as it is.

Only those repairs run here. ftfy's other, default-on changes are *not* repairs, and each has its
own step or none: its Unicode normalisation (the `nfc`/`nfkc` steps do that), removing control
characters (`strip_control`), straightening curly quotes, splitting ligatures and narrowing
full-width characters (a change of style, not of a broken value), and rewriting line breaks.
Keeping them off means `fix_text` never changes correct text, and the other steps keep their
meaning whether it is listed or not.

Only rows with a non-ASCII character or an `&` can need a repair (mojibake is non-ASCII, an
entity starts with `&`); the others are screened out in Arrow and never reach Python. Nulls stay
null; the array type is kept.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

# The rows that can need a repair (RE2): a non-ASCII character, or an ampersand.
_SCREEN = r"[^\x00-\x7f]|&"


@lru_cache(maxsize=None)
def _config():
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html="auto", remove_terminal_escapes=False, fix_encoding=True, restore_byte_a0=True,
        replace_lossy_sequences=True, decode_inconsistent_utf8=True, fix_c1_controls=True,
        fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=True, remove_control_chars=False, normalization=None, explain=False)


def repair_one(text: str) -> str:
    """One value repaired (the module docstring says which repairs).

    >>> repair_one("cafÃ©"), repair_one("Donâ€™t"), repair_one("fish &amp; chips"), repair_one("<b>&amp;</b>")
    ('café', 'Don’t', 'fish & chips', '<b>&amp;</b>')
    >>> repair_one("“ﬁne”"), repair_one("naïve café")
    ('“ﬁne”', 'naïve café')
    """
    import ftfy

    return ftfy.fix_text(text, _config())


def fix_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Every value of a string column repaired; an array in which nothing changes is returned as is.

    >>> import pyarrow as pa
    >>> fix_text(pa.array(["SchÃ¶ne GrÃ¼ÃŸe", None, "plain", "AT&amp;T"])).to_pylist()
    ['Schöne Grüße', None, 'plain', 'AT&T']
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([fix_text(chunk) for chunk in arr.chunks], type=arr.type)
    if len(arr) == 0 or arr.null_count == len(arr):
        return arr
    rows = np.flatnonzero(pc.fill_null(pc.match_substring_regex(arr, _SCREEN), False).to_numpy(zero_copy_only=False))
    if rows.size == 0:
        return arr
    before = arr.take(pa.array(rows)).to_pylist()
    after = [repair_one(text) for text in before]
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    if not changed:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows[changed]] = True
    return pc.replace_with_mask(arr, pa.array(mask), pa.array([after[i] for i in changed], type=arr.type))
