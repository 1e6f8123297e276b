"""dsc — a declarative dataset-spec compiler."""
import os

# Arrow's allocator (mimalloc) backs large buffers with 2 MiB pages where the OS offers them
# (transparent huge pages in `madvise` mode, the common Linux default). A 1M-row run fills
# gigabytes of fresh buffers, and first-touching them 4 KiB at a time was most of its system
# time: joining a 670 MB text column took 1.49 s cold against 0.05 s warm, and 0.085 s cold with
# this option. Set before pyarrow loads (mimalloc reads its options then); a user's own setting
# wins, and where the OS has no huge pages nothing changes. See docs/performance.md.
os.environ.setdefault("MIMALLOC_ALLOW_LARGE_OS_PAGES", "1")

__version__ = "0.1.0"
