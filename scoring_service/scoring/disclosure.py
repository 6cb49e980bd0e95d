"""Statistical disclosure control: which segments a report may publish so that no combination
of published figures reveals a group of fewer than `threshold` respondents.

Every figure a report publishes for a segment (n, histograms, shares, means) is a sum over the
segment's cells of the cells' counters. An attacker holding several segments' figures can add
and subtract them: what they can learn about a group of cells is exactly what lies in the row
space of the published segments' membership vectors (over the cells). A group G is derivable
iff its indicator vector 1_G lies in that row space; then its n and every histogram of its
answers follow by subtraction (the overall total minus the shown segments, a parent minus its
shown children, a margin minus a row of a cross...).

Primary suppression hides every segment under the threshold. Complementary suppression then
hides further segments, deepest crosses and smallest first, until no group of 1..threshold-1
respondents is derivable. Any derivable group with fewer than `threshold` respondents is a set of
at most threshold - 1 non-empty cells, each itself under the threshold, so the audit only has
to look at subsets of the small cells: G is derivable iff ||P 1_G||^2 = |G|, P the projection
on the row space (from a singular value decomposition).

The result depends only on the counters (not on what a request asked to see), so every response
publishes a subset of one safe set, and no union of responses is less safe than that set.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np

TOLERANCE = 1e-7
# Work bounds, so that a fragmented table costs bounded time (and the same result everywhere):
# beyond them the audit publishes the overall figure only.
MAX_GROUPS = 50_000  # candidate groups of 3-4 small cells checked, in all
MAX_PROJECTIONS = 40  # singular value decompositions per report
MAX_WORK = 4e8  # and their summed size (min(rows, cells)^2 x max(rows, cells))
MAX_SMALL = 200  # cells under the threshold


class TooFragmented(Exception):
    pass


@dataclass(frozen=True)
class Row:
    key: str
    cells: frozenset[int]  # indices of the non-empty cells the segment unites
    depth: int  # 0 overall, 1 an attribute value, 2 a two-way cross, ...


def _projection_vectors(rows: list[Row], columns: int) -> np.ndarray:
    """cells x rank: row c is cell c's coordinates in an orthonormal basis of the row space."""
    if not rows:
        return np.zeros((columns, 0))
    matrix = np.zeros((len(rows), columns))
    for i, row in enumerate(rows):
        matrix[i, list(row.cells)] = 1.0
    _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((singular > TOLERANCE * max(1.0, float(singular[0]))).sum())
    return vt[:rank].T


def _revealed(basis: np.ndarray, group: tuple[int, ...]) -> bool:
    projected = basis[list(group)].sum(axis=0)
    return float(projected @ projected) >= len(group) - 1e-6


class _Budget:
    """Work left for one audit: a deterministic count, not a clock, so that the same counters
    always give the same answer."""

    def __init__(self, cells: int):
        self.cells, self.projections, self.work, self.groups = cells, 0, 0.0, 0

    def projection(self, rows: int) -> None:
        self.projections += 1
        self.work += float(min(rows, self.cells)) ** 2 * max(rows, self.cells)
        if self.projections > MAX_PROJECTIONS or self.work > MAX_WORK:
            raise TooFragmented

    def group(self) -> None:
        self.groups += 1
        if self.groups > MAX_GROUPS:
            raise TooFragmented


def _derivable_group(basis: np.ndarray, cell_n: list[int], threshold: int,
                     small: list[int], budget: _Budget) -> tuple[int, ...] | None:
    """A set of small cells with 1..threshold-1 respondents in all that the rows reveal."""
    vectors = basis[small]
    own = (vectors * vectors).sum(axis=1)
    for i in np.flatnonzero(own >= 1 - 1e-6):
        return (small[int(i)],)
    n = np.array([cell_n[c] for c in small])
    gram = vectors @ vectors.T
    pairs = own[:, None] + own[None, :] + 2 * gram >= 2 - 1e-6
    pairs &= (n[:, None] + n[None, :]) < threshold
    pairs &= np.triu(np.ones_like(pairs, dtype=bool), 1)
    for i, j in np.argwhere(pairs):
        return (small[int(i)], small[int(j)])

    # Three or four cells (their n adding up to at most threshold - 1): depth-first, carrying
    # the running sum of the cells' coordinates.
    def search(start: int, left: int, chosen: tuple, total: np.ndarray):
        for i in range(start, len(small)):
            if n[i] > left:
                continue
            group, summed = chosen + (i,), total + vectors[i]
            if len(group) >= 3:
                budget.group()
                if float(summed @ summed) >= len(group) - 1e-6:
                    return tuple(small[k] for k in group)
            found = search(i + 1, left - int(n[i]), group, summed)
            if found:
                return found
        return None

    return search(0, threshold - 1, (), np.zeros(vectors.shape[1]))


def _cost(row: Row, n: int) -> tuple:
    """Which segment to hide first: the deepest cross, then the fewest respondents."""
    return (-row.depth, n, row.key)


def publishable(rows: list[Row], cell_n: list[int], threshold: int) -> set[str]:
    """The keys of the rows that may be published. rows[0] must be the overall segment.
    A table too fragmented to audit within the work bounds is audited again with the
    attribute values alone (no crosses), and failing that publishes the overall figure only."""
    try:
        return _publishable(rows, cell_n, threshold)
    except TooFragmented:
        pass
    margins = [row for row in rows if row.depth <= 1]
    if len(margins) < len(rows):
        try:
            return _publishable(margins, cell_n, threshold)
        except TooFragmented:
            pass
    return {rows[0].key} if sum(cell_n) >= threshold else set()


def _publishable(rows: list[Row], cell_n: list[int], threshold: int) -> set[str]:
    n_of = {row.key: sum(cell_n[c] for c in row.cells) for row in rows}
    shown = [row for row in rows if n_of[row.key] >= threshold]
    if not shown or shown[0] is not rows[0]:
        return set()  # overall under the threshold: nothing is shown
    small = sorted(c for c, n in enumerate(cell_n) if 0 < n < threshold)
    if not small:
        return {row.key for row in shown}  # no group under the threshold exists at all
    if len(small) > MAX_SMALL:
        raise TooFragmented
    budget = _Budget(len(cell_n))
    while True:
        budget.projection(len(shown))
        group = _derivable_group(_projection_vectors(shown, len(cell_n)), cell_n,
                                 threshold, small, budget)
        if group is None:
            return {row.key for row in shown}
        candidates = sorted(shown[1:], key=lambda row: _cost(row, n_of[row.key]))
        if not candidates:
            return {shown[0].key}
        chosen = candidates[0]
        # Prefer the cheapest segment whose removal alone protects this group.
        for row in candidates[:4]:
            budget.projection(len(shown) - 1)
            rest = [r for r in shown if r is not row]
            if not _revealed(_projection_vectors(rest, len(cell_n)), group):
                chosen = row
                break
        shown = [r for r in shown if r is not chosen]
