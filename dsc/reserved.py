"""The names dsc adds to rows and records, spelled once: every module uses these constants.

A data column may not use the prefix (DSC202 at check time, a source error at read time), so
these never collide with the user's columns. The files a run writes keep some of them: the row
id on every kept row and reject, the split and the augmentation provenance on kept rows, and the
reject fields in `rejects.jsonl` (and `augment_rejects.jsonl`); the others live only in memory.

This module imports nothing, so the compile-time checks can use it without loading pyarrow.
"""

#: Every reserved name starts with this; data columns may not.
RESERVED_PREFIX = "_dsc_"

# --------------------------------------------------------------------------- on every row
ID = "_dsc_id"  # the row's id (source key or content hash): rows, kept outputs, exports, rejects, label tasks
SRC = "_dsc_src"  # where the row was read (`file:line`, `file#index`, `hub:…`): rows as read, rejects.jsonl
SPLIT = "_dsc_split"  # the split a kept row is in: rows after splitting, kept.jsonl / kept.parquet

# --------------------------------------------------------------------------- on removed rows
REASON = "_dsc_reason"  # why a stage removed the row: Outcome.removed, rejects.jsonl
CLUSTER = "_dsc_cluster"  # the duplicate cluster of a row a dedupe removed (else null): Outcome.removed, rejects.jsonl
DUPLICATE_OF = "_dsc_duplicate_of"  # the id of the row kept in its place (else null): Outcome.removed, rejects.jsonl
SIMILARITY = "_dsc_similarity"  # `dedupe near`: exact Jaccard with the row its cluster is named by (else null): Outcome.removed, rejects.jsonl

#: The columns a stage attaches to the rows it removes (`dsc.ops.runtime.removed_rows`).
REMOVED_FIELDS = (REASON, CLUSTER, DUPLICATE_OF, SIMILARITY)

# --------------------------------------------------------------------------- on rejects only
RULE = "_dsc_rule"  # the id of the rule (or source, or augment rule) that rejected the row: rejects.jsonl
LINE = "_dsc_line"  # the spec line of that rule: rejects.jsonl
ROW = "_dsc_row"  # the rejected row's data as JSON text (the raw text for an unreadable line): rejects.jsonl

#: The fields of every reject record, in their column order: rejects.jsonl, augment_rejects.jsonl,
#: the stage caches' rejects and the Ray engine's side records (`dsc.engines.rejects` builds them).
REJECT_FIELDS = (ID, RULE, LINE, REASON, CLUSTER, DUPLICATE_OF, SIMILARITY, SRC, ROW)

# --------------------------------------------------------------------------- on augmented rows
AUG_PREFIX = "_dsc_aug_"  # the provenance columns below: generated rows, kept outputs (null on input rows)
AUG_SOURCE = "_dsc_aug_source"  # the id of the row a generated row was made from
AUG_RULE = "_dsc_aug_rule"  # the augment rule that generated the row
AUG_METHOD = "_dsc_aug_method"  # the method: paraphrase or backtranslate
AUG_MODEL = "_dsc_aug_model"  # the model that wrote it
AUG_ENDPOINT = "_dsc_aug_endpoint"  # the API endpoint it was called at (null for a local model)
AUG_PIVOT = "_dsc_aug_pivot"  # the pivot language of a back-translation (else null)
AUG_TEMPLATE = "_dsc_aug_template"  # the hash of the prompt template used

#: Where a generated row came from, in column order (`dsc.augment.rows.generated_table`).
AUG_PROVENANCE = (AUG_SOURCE, AUG_RULE, AUG_METHOD, AUG_MODEL, AUG_ENDPOINT, AUG_PIVOT, AUG_TEMPLATE)

# --------------------------------------------------------------------------- Ray engine only, never written
POS = "_dsc_pos"  # the row's position in the input, over all sources
SIDE = "_dsc_side"  # JSON of a side record (a reject, flags, decisions); null on a live row
BUCKET = "_dsc_bucket"  # the shuffle key of a stage: which group resolves the row
