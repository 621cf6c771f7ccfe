"""Which values a key may hold after concurrent posts: what the ingest benchmark checks stored rows against."""

from __future__ import annotations

import math

from salescast.bench.ingest import possible_final_values

NEVER = math.inf  # a post that was never acknowledged


def test_one_acknowledged_write_is_the_only_possible_value():
    assert possible_final_values([(5.0, 1.0, 2.0)]) == {5.0}


def test_a_write_sent_after_another_was_acknowledged_replaces_it():
    assert possible_final_values([(5.0, 1.0, 2.0), (7.0, 3.0, 4.0)]) == {7.0}
    assert possible_final_values([(7.0, 3.0, 4.0), (5.0, 1.0, 2.0)]) == {7.0}  # the file order does not matter


def test_overlapping_writes_may_commit_in_either_order():
    assert possible_final_values([(5.0, 1.0, 3.0), (7.0, 2.0, 4.0)]) == {5.0, 7.0}


def test_a_write_never_acknowledged_may_or_may_not_have_landed():
    assert possible_final_values([(5.0, 1.0, 2.0), (7.0, 3.0, NEVER)]) == {5.0, 7.0}
    assert possible_final_values([(7.0, 1.0, NEVER), (5.0, 2.0, 3.0)]) == {5.0, 7.0}  # it may have committed last
    # 9 was sent after 5 was acknowledged: 5 is ruled out, the unanswered 7 is not.
    assert possible_final_values([(7.0, 1.0, NEVER), (5.0, 2.0, 3.0), (9.0, 4.0, 5.0)]) == {7.0, 9.0}
