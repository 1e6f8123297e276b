"""The report's largest clusters: ranked in Arrow, the same as ranking the groups in Python."""
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.engines import stats
from dsc.engines.rejects import reject_table
from dsc.reserved import CLUSTER, DUPLICATE_OF, ID, LINE, REASON, ROW, RULE, SRC
from tests.hypothesis_budget import examples

names = st.sampled_from(["a", "b", "é", "Z", "zz", "\u4e2d", "a\u0301"])


def ranked_in_python(rejects, rules):
    """The ranking as it was written first: every group a dict, sorted by (-size, rule, cluster)."""
    dup = rejects.filter(pc.and_(pc.is_valid(rejects.column(CLUSTER)),
                                 pc.is_in(rejects.column(RULE), value_set=pa.array(rules))))
    if dup.num_rows == 0:
        return []
    groups = dup.group_by([RULE, CLUSTER], use_threads=False).aggregate(
        [(ID, "count"), (DUPLICATE_OF, "max")]).to_pylist()
    for g in groups:
        g["size"] = g[stats.ID_COUNT] + (g[stats.DUPLICATE_OF_MAX] is not None)
    groups.sort(key=lambda g: (-g["size"], g[RULE], g[CLUSTER]))
    return [(g[RULE], g[CLUSTER], g["size"], g[stats.DUPLICATE_OF_MAX]) for g in groups[:stats.TOP_CLUSTERS]]


@settings(max_examples=examples(1), deadline=None)
@given(rows=st.lists(st.tuples(names, st.one_of(st.none(), names), st.one_of(st.none(), names)), max_size=60))
def test_top_clusters_match_a_python_ranking(rows):
    n = len(rows)
    rejects = reject_table(n, {ID: [f"r{i}" for i in range(n)], RULE: [r for r, _, _ in rows], LINE: [1] * n,
                               REASON: ["duplicate"] * n, CLUSTER: [c for _, c, _ in rows],
                               DUPLICATE_OF: [d for _, _, d in rows], SRC: ["f:1"] * n, ROW: ["{}"] * n})
    rules = ["a", "é", "zz", "\u4e2d"]
    got = [(c["rule"], c["cluster"], c["size"], c["kept"]) for c in stats._clusters(rejects, rules)]
    assert got == ranked_in_python(rejects, rules)
