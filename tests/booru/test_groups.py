"""Images grouped by identical fingerprint: the groups and their order are those numpy's own
np.unique and np.lexsort give (the oracle), found faster."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from booru.func.similarity.groups import Groups, lexicographic


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 80), width=st.sampled_from([1, 3, 12]),
       spread=st.integers(1, 4))
def test_groups_are_numpys_unique_rows_in_lexicographic_order(seed: int, rows: int, width: int, spread: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, spread, size=(rows, width)).astype(np.uint64 if width == 3 else np.float64)
    ids = rng.permutation(10 * rows)[:rows].astype(np.int64)
    assert lexicographic(values).tolist() == np.lexsort(values[:, ::-1].T).tolist()
    groups = Groups.of(ids, values)
    keys, inverse = np.unique(values, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    assert np.array_equal(groups.keys, keys)
    for group, key in enumerate(keys):
        members = groups.ids[groups.start[group]:groups.start[group + 1]]
        assert members.tolist() == ids[inverse == group].tolist()  # in the order given
    assert groups.sorted_ids.tolist() == sorted(ids.tolist())
    assert groups.ids[groups.position].tolist() == groups.sorted_ids.tolist()
