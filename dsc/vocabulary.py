"""Words that the language, the checks, the operators and the kernels share, in one home.

This module imports nothing, so that parsing and checking a spec never loads numpy or pyarrow.
"""

# `normalize` steps, in the order they always apply (whatever order a rule writes them in).
NORMALIZE_STEPS = ("fix_text", "nfc", "nfkc", "strip_control", "collapse_whitespace", "strip", "casefold")

# How a dedupe rule picks the row that survives a cluster (`by`: `keep by COL [asc|desc]`; `hash`: the
# smallest row id, a content hash unless the source has a key, so re-ordered inputs keep the same rows).
KEEP_RULES = ("first", "last", "longest", "shortest", "none", "by", "hash")
