"""Language identification for `drop where lang(COL) [not] in {…} [confidence >= P]`, with the
py3langid model that ships in its wheel (no download; 140 languages, ISO 639 codes).

A text's language is the model's most probable language, with its normalised probability as the
confidence. It is `und` (undetermined) when

- the text holds fewer than `MIN_LETTERS` letters (Unicode category L*): too short to judge —
  py3langid still answers for "ok" or "", but with a near-uniform guess; or
- the confidence is below the rule's `confidence` (0 when the rule gives none).

Determinism: py3langid scores a text with a float32 vector–matrix product, which numpy hands to
BLAS, whose summation order may depend on memory alignment and threads. Here the same
features and the same model weights are summed in float64 by numpy's own reduction, in a fixed
order, so a row's language and confidence are the same bytes with 1 or N workers and on every run.
The formula is py3langid's (`LanguageIdentifier._decide`): naive-Bayes log scores, scaled by
1/sqrt(bytes), soft-maxed; script aliases (`srl` → `sr`) folded into one label.

The model loads once per process (about a second) and is cached; a batch scores each distinct
text once.
"""
from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

UNDETERMINED = "und"
# Fewer letters than this and a text is `und`. Measured on the opening words of 386 English texts
# of examples/data (cosmos_qa): the best guess is right for 53% at 4 letters, 93% at 8, 97% at 12,
# 99% at 20 — and short texts in related languages fare worse than English.
MIN_LETTERS = 12
# The labels of py3langid 0.4.0's model, in the model's order (tests/ops/test_drop_lang.py proves
# they are the model's): the checks read them without loading the model. `zxx` is the model's own
# "no linguistic content".
LANGUAGES = (
    "af", "am", "ar", "as", "az", "be", "bg", "bn", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "eo",
    "es", "et", "eu", "fa", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy",
    "id", "ig", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "ku", "ky", "la", "lg", "ln", "lo", "lt",
    "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl", "no", "om", "or", "pa", "pl", "ps", "pt", "qu",
    "ro", "ru", "sa", "si", "sk", "sl", "so", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "ug", "uk",
    "ur", "uz", "vi", "xh", "yo", "zh", "zu", "zxx", "ace", "bcl", "dz", "ext", "gcf", "gom", "grc", "gug", "hbo",
    "kik", "nso", "pcm", "rw", "se", "sn", "st", "an", "ary", "crh", "fo", "fuv", "gcr", "guw", "kab", "lb", "lij",
    "ltg", "uzs", "wa", "sdh", "arz", "ba", "mt", "nn", "oc", "tg", "tk", "tt", "vec", "vo", "wuu", "yue",
)
#: What a `lang()` set may name: the model's languages and `und`.
CODES = LANGUAGES + (UNDETERMINED,)


@lru_cache(maxsize=1)
def identifier():
    """py3langid's identifier with normalised probabilities, loaded once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(texts, confidence: float = 0.0) -> tuple[list[str], list[float]]:
    """Each text's language and confidence (module docstring); `und` with confidence 0 for a text
    of fewer than MIN_LETTERS letters, `und` with the model's confidence for one below `confidence`.

    >>> detect(["The cat sat on the mat and looked out of the window.", "ok", None])[0]
    ['en', 'und', 'und']
    >>> detect(["Der Hund schläft im Garten unter dem alten Baum."], confidence=0.5)[0]
    ['de']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pc.fill_null(pa.array(texts, type=pa.string()) if isinstance(texts, list) else texts, "")
    letters = pc.count_substring_regex(arr, r"\pL").to_numpy(zero_copy_only=False)
    seen: dict[str, tuple[str, float]] = {}
    langs, confs = [], []
    for text, n in zip(arr.to_pylist(), letters):
        if n < MIN_LETTERS:
            langs.append(UNDETERMINED)
            confs.append(0.0)
            continue
        if text not in seen:
            seen[text] = _classify(text)
        lang, conf = seen[text]
        langs.append(lang if conf >= confidence else UNDETERMINED)
        confs.append(conf)
    return langs, confs


def _classify(text: str) -> tuple[str, float]:
    """(language, probability) of one text: py3langid's `classify`, summed in float64."""
    import numpy as np
    from py3langid.langid import visit_counts

    ident = identifier()
    if text.isupper():  # as py3langid's _encode
        text = text.lower()
    data = unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")
    visits = visit_counts(ident.tk_nextmove, ident._rowbase, ident.tk_output, data)
    classes = ident.nb_classes
    if not visits:
        return UNDETERMINED, 0.0
    features = sorted(visits)  # a fixed order of summation
    weights = np.log1p(np.array([visits[f] for f in features], dtype=np.float64))
    rows = np.asarray(ident.nb_ptc[features], dtype=np.float64)
    scores = np.add.reduce(weights[:, None] * rows, axis=0) + np.asarray(ident.nb_pc, dtype=np.float64)
    scores *= 1.0 / math.sqrt(len(data) or 1)
    scores = np.exp(scores - scores.max())
    scores /= scores.sum()
    for i, j in ident._alias_pairs:
        scores[i] += scores[j]
        scores[j] = 0.0
    best = int(scores.argmax())
    return classes[best], float(scores[best])
