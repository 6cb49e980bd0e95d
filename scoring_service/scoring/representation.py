"""Whose voice the numbers carry: per segment value, customers invited, completed and the
response rate; and a test of whether the respondents' mix differs from the invited mix (or from
a population the vendor uploaded as counts per segment value).

The test, per segment attribute: Pearson's chi-square goodness of fit of the respondents'
counts over the attribute's values against the reference shares, Holm-corrected across the
attributes tested at alpha 0.05. A respondent in a value nobody in the reference has (an
anonymous-link answer from a kind of customer never invited) makes the mix differ outright.
Against the invited customers the respondents are a subset of the reference, so the statistic
is divided by the finite population correction 1 - n / N (n respondents, N invited).
Revoked invitations do not count as invited.
"""

from __future__ import annotations

from scipy import stats as sp

from shared.cells import parse_cell_key, segment_key

from . import stats

ALPHA = 0.05


def respondent_mix(cells: dict[str, dict[str, int]], names: list[str]) -> dict[str, dict]:
    """{attribute: {value: customer responses}} from the per-cell counters."""
    mix: dict[str, dict[str, int]] = {name: {} for name in names}
    for key, counters in cells.items():
        kind, attributes = parse_cell_key(key)
        if kind != "customer":
            continue
        for name in names:
            value = attributes.get(name)
            if value:
                mix[name][value] = mix[name].get(value, 0) + counters.get("n", 0)
    return mix


def invitation_mix(invitation_tally, names: list[str]) -> tuple[dict, dict, int, int]:
    """(invited, completed) as {attribute: {value: count}}, and the totals, from
    (attributes, status, count) triples (InvitationRepository.tally)."""
    invited = {name: {} for name in names}
    completed = {name: {} for name in names}
    total_invited = total_completed = 0
    for attributes, status, count in invitation_tally:
        if status == "revoked":
            continue
        done = count if status == "completed" else 0
        total_invited += count
        total_completed += done
        for name in names:
            value = (attributes or {}).get(name)
            if value:
                invited[name][value] = invited[name].get(value, 0) + count
                completed[name][value] = completed[name].get(value, 0) + done
    return invited, completed, total_invited, total_completed


def mix_test(observed: dict[str, int], reference: dict[str, float],
             finite: bool = False) -> dict | None:
    """Chi-square goodness of fit of observed counts against the reference's shares. finite:
    the respondents are drawn from the reference itself (the invited customers), so the
    statistic is divided by the finite population correction 1 - n / N; without it the test
    would warn less often than alpha when most of those invited answer."""
    n = sum(observed.values())
    weight = sum(reference.values())
    if n == 0 or weight <= 0:
        return None
    outside = sorted(v for v, c in observed.items() if c and not reference.get(v))
    values = sorted(v for v in reference if reference[v] > 0)
    if outside:
        return {"method": "respondents outside the reference", "statistic": None, "df": None,
                "p": 0.0, "outside": outside}
    if len(values) < 2:
        return None
    counts = [observed.get(v, 0) for v in values]
    expected = [n * reference[v] / weight for v in values]
    statistic, _ = sp.chisquare(counts, expected)
    fraction = n / weight
    if finite and fraction < 1:
        statistic = statistic / (1 - fraction)
    p = sp.chi2.sf(statistic, len(values) - 1)
    return {"method": "chi-square goodness of fit" + (
                ", finite population correction" if finite and fraction < 1 else ""),
            "statistic": round(float(statistic), 3),
            "df": len(values) - 1, "p": float(p),
            "smallest_expected": round(min(expected), 1)}


def representation(*, invitation_tally=(), cells: dict[str, dict[str, int]],
                   segments: dict[str, list[str]], names: list[str],
                   population: dict[str, dict[str, float]] | None = None,
                   hidden: set[str] = frozenset(), confidence: float = 0.95) -> dict | None:
    """The `representation` block of a report (None when neither invitations nor a population
    say who should have answered). invitation_tally as for invitation_mix.
    hidden: segment keys ("size=small") the report suppresses; their completed counts and
    rates are withheld as well."""
    invited, completed, total_invited, total_completed = invitation_mix(invitation_tally, names)
    population = {k: v for k, v in (population or {}).items() if k in names and v}
    if not total_invited and not population:
        return None
    respondents = respondent_mix(cells, names)
    attributes, tests = [], []
    for name in names:
        reference = population.get(name) or invited[name]
        source = "population" if name in population else "invited"
        if not reference and not respondents[name]:
            continue
        ref_total = sum(reference.values())
        resp_total = sum(respondents[name].values())
        values = []
        for value in segments.get(name, []):
            key = segment_key({name: value})
            asked, done = invited[name].get(value, 0), completed[name].get(value, 0)
            shown = key not in hidden
            rate = stats.wilson(done, asked, confidence) if asked and shown else None
            values.append({
                "value": value, "key": key, "invited": asked,
                "completed": done if shown else None,
                "response_rate": None if rate is None else round(rate.value, 1),
                "interval": None if rate is None else [round(rate.low, 1), round(rate.high, 1)],
                "reference_share": round(100 * reference.get(value, 0) / ref_total, 1)
                if ref_total else None,
                "respondent_share": round(100 * respondents[name].get(value, 0) / resp_total, 1)
                if resp_total and shown else None})
        test = mix_test(respondents[name], reference, finite=source == "invited")
        entry = {"attribute": name, "reference": source, "values": values, "test": test}
        attributes.append(entry)
        if test is not None:
            tests.append(test)
    for test, p_adj in zip(tests, stats.holm([t["p"] for t in tests])):
        test["p"] = round(test["p"], 6)
        test["p_adjusted"] = round(p_adj, 6)
        test["differs"] = p_adj < ALPHA
    differing = [a["attribute"] for a in attributes if a["test"] and a["test"]["differs"]]
    warning = None
    if differing:
        warning = ("The respondents' mix differs from the "
                   + ("population" if population else "invited customers")
                   + " by " + " and ".join(n.replace("_", " ") for n in differing)
                   + ": unweighted figures lean towards the customers who answered more.")
    return {"invited": total_invited, "completed": total_completed,
            "response_rate": round(100 * total_completed / total_invited, 1)
            if total_invited else None,
            "test": {"method": "chi-square goodness of fit per attribute, Holm across "
                               "attributes", "alpha": ALPHA},
            "attributes": attributes, "differs": differing, "warning": warning}
