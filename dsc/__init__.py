"""dsc — a declarative dataset-spec compiler."""
import os

__version__ = "0.1.0"

# Arrow allocates through mimalloc, which hands freed memory back to the OS only after a delay
# (10 ms by default). A run frees the reader's blocks just before the normalise stage allocates
# its new column, so whether both were resident at once depended on timing: a 1M-row run peaked
# at 1.9 GB or 2.4 GB from one run to the next, a 100k-row run at 0.58-0.65 GB. Handing memory
# back at once made it 1.74 GB and 0.49-0.50 GB every time, for about 4% more time at 1M rows
# (docs/performance.md). Read when Arrow loads, so it applies only when dsc is imported first;
# a value the user set is kept.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")
