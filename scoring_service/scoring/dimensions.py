"""The alignment dimensions A1-A7 and readiness pillars R1-R8, each from merged counters.

Each function returns a Dimension: the score (0-100), its interval, n, the metrics that
recommendation rules read, and the inputs behind the number (shown by /report/explain).
docs/scoring.md gives every formula with a worked example.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import stats
from .counts import Counts


@dataclass
class Dimension:
    score: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    metrics: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    formula: str = ""
    missing: str | None = None  # why there is no score
    # The standard error for comparing customer segments under the same vendor profile, when
    # the interval also carries the vendor's own uncertainty (common to both sides).
    comparison_se: float | None = None
    # Standard errors (below, above) of the metrics recommendation rules test, in their units.
    metric_errors: dict = field(default_factory=dict)

    @property
    def estimate(self) -> stats.Estimate:
        return stats.Estimate(self.score, self.low, self.high, self.n)

    @property
    def se(self) -> float | None:
        return self.comparison_se if self.comparison_se is not None else self.estimate.se


def none(reason: str) -> Dimension:
    return Dimension(None, missing=reason)


def pomp(mean: float | None, low: float, high: float) -> float | None:
    """Percent of maximum: a mean on [low, high] rescaled to 0-100."""
    return None if mean is None else (mean - low) / (high - low) * 100


def item_mean(counts: Counts, question: str, low: float, high: float,
              confidence: float) -> stats.Estimate:
    """bounded_mean of one item, worked out once per set of counts (A6, A7 and the readiness
    caps read the same experience items)."""
    key = ("mean", question, low, high, confidence)
    found = counts.memo.get(key)
    if found is None:
        found = counts.memo[key] = stats.bounded_mean(counts.numeric(question), low, high,
                                                      confidence)
    return found


def likert_pomp(est: stats.Estimate) -> stats.Estimate:
    def f(x):
        return pomp(x, 1, 5)
    return stats.Estimate(f(est.value), None if est.low is None else f(est.low),
                          None if est.high is None else f(est.high), est.n)


def _share_errors(share: float, n: int, confidence: float) -> tuple[float, float]:
    """Standard errors below and above a share (in percentage points) from its Wilson
    interval: what a rule's one-sided test on the share uses."""
    if not n:
        return (float("inf"), float("inf"))
    est = stats.wilson(share * n, n, confidence)
    z = stats.z_value(confidence)
    return ((est.value - est.low) / z, (est.high - est.value) / z)


def _proportion_dimension(score: float, n: int, confidence: float) -> tuple[float, float]:
    est = stats.wilson(score / 100 * n, n, confidence)
    return est.low, est.high


# -- A1 timing -----------------------------------------------------------------------------

def timing(customers: Counts, vendor: Counts, spec: dict, confidence: float) -> Dimension:
    wanted = customers.numeric(spec["customer_item"])
    engaged = vendor.numeric(spec["vendor_item"])
    if not wanted:
        return none("No customer answered when they want first contact.")
    if not engaged:
        return none("No vendor respondent said when sales first engages.")
    median = stats.median_ci(wanted, confidence, unit=1, scale=(0, 100))
    point = stats.median_ci(engaged, confidence).value
    k = spec["multiplier"]

    def score(m: float) -> float:
        return 100 - min(100.0, k * abs(m - point))

    # The score falls as the median moves away from the vendor's point, so over the median's
    # interval it is lowest at the far end and highest at the point (or the nearer end).
    ends = [score(median.low), score(median.high)]
    high = 100.0 if median.low <= point <= median.high else max(ends)
    within = sum(c for v, c in wanted.items() if abs(v - point) <= spec["within_points"])
    within_est = stats.wilson(within, median.n, confidence)
    z = stats.z_value(confidence)
    median_errors = ((median.value - median.low) / z, (median.high - median.value) / z)
    return Dimension(
        score(median.value), min(ends), high, median.n,
        metrics={"timing.customer_median": median.value, "timing.vendor_point": point,
                 "timing.gap": median.value - point,
                 "timing.abs_gap": abs(median.value - point),
                 "timing.within_share_pct": within_est.value},
        metric_errors={"timing.gap": median_errors, "timing.abs_gap": median_errors},
        inputs={"customer_median": median.as_dict(), "vendor_point": point,
                "within_points_share": within_est.as_dict(), "customer_histogram": wanted,
                "vendor_histogram": engaged},
        formula=f"100 - min(100, {k} x |customer median - vendor point|)")


# -- A2 mode fit ---------------------------------------------------------------------------

def mode_fit(customers: Counts, vendor: Counts, spec: dict, confidence: float,
             job_titles: dict[str, str]) -> Dimension:
    jobs, weights, matches, answered = [], [], [], []
    per_job = {}
    for job in spec["jobs"]:
        importance_q = spec["customer_importance"].format(job=job)
        mode_q = spec["customer_mode"].format(job=job)
        offered_q = spec["vendor_modes"].format(job=job)
        importance = item_mean(customers, importance_q, 1, 5, confidence)
        preferred = customers.options(mode_q)
        n_mode = customers.answered(mode_q)
        vendor_n = vendor.answered(offered_q)
        if importance.value is None or not n_mode or not vendor_n:
            continue
        offered = {m for m, c in vendor.options(offered_q).items()
                   if c / vendor_n >= spec["offered_share"]}
        matched = sum(c for mode, c in preferred.items()
                      if mode in offered or (mode == "none" and spec["none_matches"] in offered))
        match = matched / n_mode
        jobs.append(job)
        weights.append(importance.value)
        matches.append(match)
        answered.append(n_mode)
        per_job[job] = {"importance_pomp": pomp(importance.value, 1, 5), "match_pct": match * 100,
                        "preferred": preferred, "offered": sorted(offered), "n": n_mode}
    if not jobs:
        return none("No buying job has both customer preferences and vendor answers.")
    score = 100 * sum(w * m for w, m in zip(weights, matches)) / sum(weights)
    n = min(answered)
    low, high = _proportion_dimension(score, n, confidence)
    worst = sorted(jobs, key=lambda j: per_job[j]["match_pct"])[:2]
    return Dimension(score, low, high, n,
                     metrics={"modes.worst_jobs": " and ".join(job_titles.get(j, j).lower()
                                                               for j in worst)},
                     inputs={"jobs": per_job},
                     formula="sum over jobs of importance x share whose preferred mode is "
                             "offered, / sum of importance")


# -- A3 content fit ------------------------------------------------------------------------

def _weighted_coverage(customers: Counts, customer_q: str, vendor: Counts, vendor_q: str,
                       vendor_n: int) -> tuple[float | None, dict]:
    n = customers.answered(customer_q)
    if not n or not vendor_n:
        return None, {}
    useful = {t: c / n for t, c in customers.options(customer_q).items()}
    total = sum(useful.values())
    if not total:
        return None, {}
    published = {t: vendor.count(vendor_q, t) / vendor_n for t in useful}
    coverage = sum(useful[t] * published[t] for t in useful) / total
    return coverage, {"useful_share": useful, "vendor_share": published}


def content_fit(customers: Counts, vendor: Counts, spec: dict, confidence: float) -> Dimension:
    vendor_n = vendor.answered(spec["vendor_content"])
    content, content_inputs = _weighted_coverage(customers, spec["customer_content"], vendor,
                                                 spec["vendor_content"], vendor_n)
    if content is None:
        return none("Content usefulness or the vendor's published content is missing.")
    formats, format_inputs = _weighted_coverage(
        customers, spec["customer_formats"], vendor, spec["vendor_formats"],
        vendor.answered(spec["vendor_formats"]))
    useful = content_inputs["useful_share"]
    gated = {t: vendor.count(spec["vendor_gated"], t) / vendor_n for t in useful}
    gated_useful = sum(useful[t] * gated[t] for t in useful) / sum(useful.values())
    tolerance_n = customers.answered(spec["gate_tolerance"])
    averse = (sum(customers.count(spec["gate_tolerance"], v) for v in spec["gate_averse"])
              / tolerance_n) if tolerance_n else 0.0
    cw, fw = spec["content_weight"], spec["format_weight"]
    coverage = content if formats is None else (cw * content + fw * formats) / (cw + fw)
    score = 100 * max(0.0, coverage - averse * gated_useful)
    n = customers.answered(spec["customer_content"])
    low, high = _proportion_dimension(score, n, confidence)
    return Dimension(score, low, high, n,
                     metric_errors={
                         "content.gate_aversion_pct": _share_errors(averse, tolerance_n,
                                                                    confidence),
                         "content.gated_useful_pct": _share_errors(gated_useful, vendor_n,
                                                                   confidence)},
                     metrics={"content.gate_aversion_pct": averse * 100,
                              "content.gated_useful_pct": gated_useful * 100},
                     inputs={"content": content_inputs, "formats": format_inputs,
                             "content_coverage": content, "format_coverage": formats,
                             "gate_aversion": averse, "gated_share_of_useful": gated_useful,
                             "vendor_gated_share": gated},
                     formula=f"100 x max(0, ({cw} x content coverage + {fw} x format coverage)"
                             f" / {cw + fw} - gate aversion x gated share of useful content)")


# -- A4 channel fit ------------------------------------------------------------------------

def channel_fit(customers: Counts, vendor: Counts, spec: dict, confidence: float,
                labels: dict[str, str]) -> Dimension:
    coverage, inputs = _weighted_coverage(customers, spec["customer_sources"], vendor,
                                          spec["vendor_channels"],
                                          vendor.answered(spec["vendor_channels"]))
    if coverage is None:
        return none("Information sources or the vendor's channels are missing.")
    useful, present = inputs["useful_share"], inputs["vendor_share"]
    # Ties are broken by name so the same counters always give the same text.
    gaps = sorted((t for t in useful if present[t] < 0.5), key=lambda t: (-useful[t], t))[:3]
    score = 100 * coverage
    n = customers.answered(spec["customer_sources"])
    low, high = _proportion_dimension(score, n, confidence)
    return Dimension(score, low, high, n,
                     metrics={"channels.missing": ", ".join(labels.get(t, t).lower()
                                                            for t in gaps) or "none"},
                     inputs=inputs,
                     formula="100 x sum of (share of customers using a source x share of "
                             "vendor staff saying you are present there) / sum of usage shares")


# -- A5 buying-team coverage ---------------------------------------------------------------

def _mean_size(counts: Counts, question: str, sizes: dict[str, float],
               confidence: float) -> stats.Estimate:
    histogram: dict[float, int] = {}
    for option, c in counts.options(question).items():
        if option in sizes and c:
            histogram[sizes[option]] = histogram.get(sizes[option], 0) + c
    return stats.bounded_mean(histogram, min(sizes.values()), max(sizes.values()), confidence)


def team_coverage(customers: Counts, vendor: Counts, spec: dict, confidence: float) -> Dimension:
    sizes = spec["team_sizes"]
    team = _mean_size(customers, spec["customer_team"], sizes, confidence)
    contacts = _mean_size(vendor, spec["vendor_contacts"], sizes, confidence)
    if team.value is None or contacts.value is None:
        return none("Buying-team size or the vendor's contacts engaged is missing.")
    consensus = likert_pomp(stats.bounded_mean(vendor.numeric(spec["consensus_item"]), 1, 5,
                                               confidence))
    consensus_pomp = consensus.value if consensus.value is not None else 0.0
    cw, sw = spec["coverage_weight"], spec["consensus_weight"]

    def score(team_size: float, engaged: float, material: float) -> float:
        return cw * 100 * min(1.0, engaged / team_size) + sw * material

    value = score(team.value, contacts.value, consensus_pomp)
    # The interval carries both sides: a larger team, fewer contacts and weaker consensus
    # material at the low end, so that coverage capped at 100 % does not pin it to a point.
    vendor_low = [contacts.low, consensus.low if consensus.value is not None else 0.0]
    vendor_high = [contacts.high, consensus.high if consensus.value is not None else 0.0]
    low = high = comparison_se = None
    if team.high is not None and None not in vendor_low + vendor_high:
        low = score(team.high, *vendor_low)
        high = score(team.low, *vendor_high)
        # Segments share the vendor: compare them on the customers' side only.
        customer_low = score(team.high, contacts.value, consensus_pomp)
        customer_high = score(team.low, contacts.value, consensus_pomp)
        comparison_se = (customer_high - customer_low) / (2 * stats.z_value(confidence))
    return Dimension(value, low, high, team.n, comparison_se=comparison_se,
                     metrics={"team.customer_mean": team.value,
                              "team.vendor_contacts": contacts.value},
                     inputs={"customer_team_mean": team.as_dict(),
                             "vendor_contacts_mean": contacts.as_dict(),
                             "consensus_material_pomp": consensus_pomp},
                     formula=f"{cw} x 100 x min(1, contacts engaged / team size) + {sw} x "
                             "consensus material (0-100)")


# -- A6 experience -------------------------------------------------------------------------

def experience(customers: Counts, spec: dict, confidence: float) -> Dimension:
    items = {}
    for q in spec["items"]:
        histogram = customers.numeric(q)
        if not histogram:
            continue
        mean = likert_pomp(item_mean(customers, q, 1, 5, confidence))
        top2 = stats.wilson(histogram.get(4, 0) + histogram.get(5, 0), mean.n, confidence)
        items[q] = {"mean_pomp": mean, "top2": top2}
    if not items:
        return none("No customer rated their experience.")
    means = [i["mean_pomp"] for i in items.values()]
    score = sum(m.value for m in means) / len(means)
    # Averaging the items' interval ends treats them as perfectly correlated: conservative.
    with_interval = [m for m in means if m.low is not None]
    low = sum(m.low for m in with_interval) / len(with_interval) if with_interval else None
    high = sum(m.high for m in with_interval) / len(with_interval) if with_interval else None
    nps_est = stats.nps(customers.numeric(spec["nps_item"]), confidence)
    return Dimension(score, low, high, min(m.n for m in means),
                     metrics={"nps": nps_est.value},
                     inputs={"items": {q: {"mean_pomp": v["mean_pomp"].as_dict(),
                                           "top2_pct": v["top2"].as_dict()}
                                       for q, v in items.items()},
                             "nps": nps_est.as_dict()},
                     formula="mean of the experience items, each rescaled 1-5 -> 0-100")


# -- A7 perception gap ---------------------------------------------------------------------

def _on_100(counts: Counts, question: str, kind: str, confidence: float) -> stats.Estimate:
    if kind == "likert_5":
        return likert_pomp(item_mean(counts, question, 1, 5, confidence))
    factor = 10 if kind == "scale_0_10" else 1
    est = item_mean(counts, question, 0, 100 // factor, confidence)
    scale = (lambda x: None if x is None else x * factor)
    return stats.Estimate(scale(est.value), scale(est.low), scale(est.high), est.n)


def perception(customers: Counts, vendor: Counts, spec: dict, confidence: float,
               kinds: dict[str, str]) -> Dimension:
    gaps, lows, highs, pairs = [], [], [], {}
    n = None
    for predicted_q, actual_q in spec["pairs"].items():
        predicted = _on_100(vendor, predicted_q, kinds[actual_q], confidence)
        actual = _on_100(customers, actual_q, kinds[actual_q], confidence)
        if predicted.value is None or actual.value is None:
            continue
        gap = abs(predicted.value - actual.value)
        gaps.append(gap)
        if actual.low is not None:
            # Over the customers' interval the gap ranges between these two.
            lo_gap = 0.0 if actual.low <= predicted.value <= actual.high else min(
                abs(predicted.value - actual.low), abs(predicted.value - actual.high))
            hi_gap = max(abs(predicted.value - actual.low), abs(predicted.value - actual.high))
            lows.append(lo_gap)
            highs.append(hi_gap)
        n = actual.n if n is None else min(n, actual.n)
        pairs[actual_q] = {"predicted": round(predicted.value, 1),
                           "actual": round(actual.value, 1), "gap": round(gap, 1)}
    if not gaps:
        return none("No vendor predictions to compare with customer answers.")
    mad = sum(gaps) / len(gaps)
    low = 100 - sum(highs) / len(highs) if len(highs) == len(gaps) else None
    high = 100 - sum(lows) / len(lows) if len(lows) == len(gaps) else None
    return Dimension(100 - mad, low, high, n or 0, metrics={"perception.mad": mad},
                     inputs={"pairs": pairs},
                     formula="100 - mean |vendor prediction - customer answer|, both on 0-100")


# -- readiness -----------------------------------------------------------------------------

def staff_ratings(vendor: Counts, spec: dict, settings: dict, confidence: float) -> tuple:
    """The vendor side of a pillar (the same for every customer segment)."""
    item_means = []
    spreads = []
    for q in spec["items"]:
        histogram = vendor.numeric(q)
        if histogram:
            item_means.append(likert_pomp(stats.bounded_mean(histogram, 1, 5, confidence)))
            sd = stats.sample_sd(histogram)
            if sd is not None:
                spreads.append((sum(histogram.values()), sd))
    if not item_means:
        return None
    self_score = sum(m.value for m in item_means) / len(item_means)
    low = sum(m.low for m in item_means) / len(item_means)
    high = sum(m.high for m in item_means) / len(item_means)
    penalty, max_sd = 0.0, max((sd for _, sd in spreads), default=0.0)
    rules = settings["consistency"]
    consistency_p = stats.sd_above_p(spreads, rules["sd_threshold"])
    if spec.get("consistency") and max_sd > rules["sd_threshold"]:
        penalty = min(rules["max_penalty"], (max_sd - rules["sd_threshold"]) *
                      rules["penalty_per_sd"])
    return (self_score, low, high, min(m.n for m in item_means), penalty, max_sd,
            consistency_p)


def pillar(customers: Counts, vendor: Counts, spec: dict, settings: dict,
           confidence: float, staff: tuple | None = None) -> Dimension:
    """staff: staff_ratings(...) when the caller has worked it out already."""
    staff = staff or staff_ratings(vendor, spec, settings, confidence)
    if staff is None:
        return none("No vendor respondent rated this pillar.")
    self_score, low, high, staff_n, penalty, max_sd, consistency_p = staff
    score = self_score - penalty
    cap = evidence = None
    cap_low = cap_high = None
    if spec.get("evidence"):
        rated = likert_pomp(item_mean(customers, spec["evidence"], 1, 5, confidence))
        evidence = rated.value
        if evidence is not None:
            margin = settings["evidence_margin"]
            cap, cap_low, cap_high = evidence + margin, rated.low + margin, rated.high + margin
    capped = cap is not None and score > cap
    if capped:
        score = cap
    score = max(0.0, min(100.0, score))

    def adjust(x, ceiling):
        # min(self-assessment, cap) over both intervals: the cap's own uncertainty (the
        # customers' rating) keeps a capped pillar from collapsing to a point.
        x -= penalty
        return max(0.0, min(100.0, min(x, ceiling) if ceiling is not None else x))

    low, high = adjust(low, cap_low), adjust(high, cap_high)
    return Dimension(score, min(low, score), max(high, score), staff_n,
                     metrics={"penalty": penalty, "max_sd": max_sd,
                              "consistency_p": consistency_p},
                     inputs={"self_assessed": round(self_score, 1),
                             "consistency_penalty": round(penalty, 1),
                             "largest_item_sd": round(max_sd, 2),
                             "customer_evidence": None if evidence is None else round(evidence, 1),
                             "cap": None if cap is None else round(cap, 1), "capped": capped},
                     formula="mean of the pillar's items (1-5 -> 0-100) across vendor "
                             "respondents, minus a consistency penalty, capped at customer "
                             "evidence + margin")
