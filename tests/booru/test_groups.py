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


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(1, 80), spread=st.integers(1, 4))
def test_a_leading_class_splits_groups_and_its_false_groups_come_first(seed: int, rows: int, spread: int) -> None:
    """With `leading`, the groups are numpy's unique (leading, row) pairs in that order."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, spread, size=(rows, 3)).astype(np.uint64)
    leading = rng.random(rows) < 0.5
    ids = rng.permutation(10 * rows)[:rows].astype(np.int64)
    groups = Groups.of(ids, values, leading)
    pairs, inverse = np.unique(np.column_stack([leading.astype(np.uint64), values]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    assert np.array_equal(groups.keys, pairs[:, 1:])
    for group in range(len(pairs)):
        members = groups.ids[groups.start[group]:groups.start[group + 1]]
        assert members.tolist() == ids[inverse == group].tolist()


def test_ids_are_held_as_int32_where_they_all_fit_and_as_int64_beyond() -> None:
    values = np.array([[5], [3], [5], [7]], dtype=np.uint64)
    cases = (([4, 9, 2, 2**31 - 1], np.int32), ([4, 9, 2, 2**31], np.int64), ([4, -2**31 - 1, 2, 1], np.int64))
    for ids, kind in cases:
        groups = Groups.of(np.array(ids, dtype=np.int64), values)
        assert groups.ids.dtype == groups.sorted_ids.dtype == kind
        assert groups.start.dtype == np.int32
        assert sorted(groups.ids.tolist()) == sorted(ids)  # no id wrapped round
        assert groups.rows_of(np.array(ids)).tolist() == [groups.ids.tolist().index(i) for i in ids]
        found, _ = groups.expand(np.arange(len(groups.keys)), np.zeros(len(groups.keys)), np.ones(4, dtype=bool))
        assert sorted(found.tolist()) == sorted(ids)
        absent = np.array([2**31 - 1 + 5, -2**31 - 7, 3, 2**40])  # beyond int32 too: no row
        assert groups.rows_of(absent).tolist() == []
