"""Weights that bring the respondents back to the invited (or an uploaded) population, one per
cell: every respondent in a cell shares its cell's weight, so weighting a report is scaling each
cell's histograms by its weight before merging (O(cells)).

- Post-stratification when the reference gives counts per cell (invitations carry every
  attribute) and every reference cell has at least `min_cell` respondents:
  w_c = (N_c / N) / (n_c / n).
- Otherwise raking (iterative proportional fitting) over the attributes' margins: the cells'
  weighted totals are scaled attribute by attribute until every margin matches the reference
  shares (to 1e-9, at most 200 rounds). Cells without a value for an attribute keep their weight
  on that margin's step; a reference value without respondents is left out of its margin.
- Trimming: no weight above 5 x the mean respondent weight; what is cut is spread over the
  others in proportion to their weights, repeated until none is above the cap (after trimming,
  margins hold only approximately: the price of bounded variance).
- Intervals use Kish's effective sample size n_eff = (sum w)^2 / sum w^2 over respondents: the
  merged histograms of a segment are rescaled to total n_eff, so every interval in the report
  (Wilson, bounded means, medians) is computed as for a sample of n_eff.
"""

from __future__ import annotations

from collections import defaultdict

CAP = 5.0  # trimming: at most this many times the mean respondent weight
TOLERANCE = 1e-9
ROUNDS = 200


def post_stratify(cell_n: dict[tuple, int], target: dict[tuple, float]) -> dict[tuple, float]:
    n, total = sum(cell_n.values()), sum(target.values())
    return {c: (target.get(c, 0) / total) / (cell_n[c] / n) for c in cell_n if cell_n[c]}


def rake(cell_n: dict[tuple, int], margins: list[dict], names: list[str]
         ) -> tuple[dict[tuple, float], int]:
    """Cell weights whose weighted margins match margins[i] ({value: count}, the i-th attribute
    of the cells' tuples), and the rounds it took. Each margin is scaled to the respondents'
    total, so the mean respondent weight stays 1."""
    n = sum(cell_n.values())
    weights = {c: 1.0 for c, k in cell_n.items() if k}
    shares = []
    for position, margin in enumerate(margins):
        # A value nobody answered from cannot be weighted up: the margin is matched over the
        # values that have respondents (the representation block shows the gap).
        present = {c[position] for c in weights}
        kept = {v: c for v, c in margin.items() if v in present and c > 0}
        total = sum(kept.values())
        shares.append({v: c / total for v, c in kept.items()} if total else None)
    rounds = 0
    for rounds in range(1, ROUNDS + 1):
        worst = 0.0
        for position, share in enumerate(shares):
            if share is None:
                continue
            current: dict = defaultdict(float)
            covered = 0.0
            for c, w in weights.items():
                if c[position] in share:
                    current[c[position]] += cell_n[c] * w
                    covered += cell_n[c] * w
            for c in weights:
                value = c[position]
                if value in share and current[value] > 0:
                    wanted = share[value] * covered
                    factor = wanted / current[value]
                    worst = max(worst, abs(factor - 1))
                    weights[c] *= factor
        if worst < TOLERANCE:
            break
    mean = sum(cell_n[c] * w for c, w in weights.items()) / n
    return {c: w / mean for c, w in weights.items()}, rounds


def trim(cell_n: dict[tuple, int], weights: dict[tuple, float], cap: float = CAP
         ) -> tuple[dict[tuple, float], bool]:
    """Weights capped at cap x their mean, the excess spread over the uncapped cells."""
    weights = dict(weights)
    total = sum(cell_n[c] * w for c, w in weights.items())
    limit = cap * total / sum(cell_n[c] for c in weights)
    trimmed = False
    for _ in range(100):
        over = [c for c, w in weights.items() if w > limit * (1 + 1e-12)]
        if not over:
            break
        trimmed = True
        capped = set(c for c, w in weights.items() if w >= limit * (1 - 1e-12)) | set(over)
        for c in capped:
            weights[c] = limit
        free = [c for c in weights if c not in capped]
        remaining = total - sum(cell_n[c] * limit for c in capped)
        free_total = sum(cell_n[c] * weights[c] for c in free)
        if not free or free_total <= 0:
            break
        for c in free:
            weights[c] *= remaining / free_total
    return weights, trimmed


def kish(cell_n: dict, weights: dict) -> float:
    """Kish's effective sample size of respondents weighted by their cell's weight."""
    total = sum(cell_n[c] * weights.get(c, 0.0) for c in cell_n)
    squares = sum(cell_n[c] * weights.get(c, 0.0) ** 2 for c in cell_n)
    return total * total / squares if squares else 0.0


def cell_weights(cell_n: dict[tuple, int], names: list[str], *,
                 joint: dict[tuple, float] | None = None,
                 margins: dict[str, dict[str, float]] | None = None,
                 min_cell: int = 10) -> dict:
    """Weights per cell (tuples of the attributes in `names` order, "" for missing) toward the
    joint reference counts if given (post-stratified when every reference cell has min_cell
    respondents, else raked over joint's margins), else toward per-attribute margins."""
    cells = {c: k for c, k in cell_n.items() if k}
    method = "raking"
    if joint:
        if all(cells.get(c, 0) >= min_cell for c, count in joint.items() if count) and all(
                joint.get(c, 0) > 0 for c in cells):
            weights, method, rounds = post_stratify(cells, joint), "post-stratification", 0
        else:
            margins = {}
            for c, count in joint.items():
                for name, value in zip(names, c):
                    if value:
                        margins.setdefault(name, {})
                        margins[name][value] = margins[name].get(value, 0) + count
    if method == "raking":
        margin_list = [dict((margins or {}).get(name) or {}) for name in names]
        weights, rounds = rake(cells, margin_list, names)
    weights, trimmed = trim(cells, weights)
    return {"weights": weights, "method": method, "rounds": rounds, "trimmed": trimmed,
            "effective_n": kish(cells, weights), "n": sum(cells.values())}


def report_weights(cells: dict[str, dict[str, int]], names: list[str], *,
                   invitation_tally=(), population: dict[str, dict[str, float]] | None = None,
                   min_cell: int = 10) -> dict | None:
    """Weights per customer cell key toward the uploaded population (margins) if any, else
    toward the invited customers (joint counts per cell; revoked invitations do not count):
    invitation_tally as (attributes, status, count) triples. None when there is nothing to
    weight to."""
    from shared.cells import parse_cell_key

    cell_n, key_of = {}, {}
    for key, counters in cells.items():
        kind, attributes = parse_cell_key(key)
        if kind == "customer" and counters.get("n"):
            cell = tuple(attributes.get(name, "") for name in names)
            cell_n[cell] = cell_n.get(cell, 0) + counters["n"]
            key_of.setdefault(cell, []).append(key)
    if not cell_n:
        return None
    population = {k: v for k, v in (population or {}).items() if k in names and v}
    if population:
        result = cell_weights(cell_n, names, margins=population, min_cell=min_cell)
        result["reference"] = "population"
    else:
        joint: dict[tuple, float] = {}
        for attributes, status, count in invitation_tally:
            if status != "revoked":
                cell = tuple((attributes or {}).get(name, "") for name in names)
                joint[cell] = joint.get(cell, 0) + count
        if not joint:
            return None
        result = cell_weights(cell_n, names, joint=joint, min_cell=min_cell)
        result["reference"] = "invited"
    result["by_key"] = {key: result["weights"].get(cell, 0.0)
                        for cell, keys in key_of.items() for key in keys}
    return result
