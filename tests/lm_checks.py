"""Checks shared by the slot-encoding tests of every model family."""

import torch


def assert_query_path_equals_rows(slot_lm, codes) -> torch.Tensor:
    """One query token over cached value slots gives the full row's probabilities (4D DAG
    mask) for every column, each a distribution over that column's values only; returns
    the row log-probabilities."""
    lay = slot_lm.layout
    n = len(codes)
    with torch.no_grad():
        rows = slot_lm.row_logprobs(torch.as_tensor(codes))
        kv = slot_lm.prefix_kv()
        for c in lay.order:
            ci = lay.index[c]
            slots = lay.parent_slots(c, {p: codes[:, lay.index[p]] for p in lay.order})
            q = slot_lm.query_logprobs(kv, torch.full((n,), ci), torch.as_tensor(slots))
            assert torch.allclose(rows[:, ci].exp(), q.exp(), atol=1e-5), c
            off, card = lay.offset[c], lay.cols[c].card
            assert torch.allclose(q.exp()[:, off:off + card].sum(1), torch.ones(n, dtype=q.dtype))
            assert torch.all(q.exp()[:, :off] == 0) and torch.all(q.exp()[:, off + card:] == 0)
    return rows
