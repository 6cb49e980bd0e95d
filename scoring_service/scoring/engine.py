"""From per-cell counters to a score report: segments, dimensions, composites, bands,
suppression (primary and complementary), findings in every segment and cross with Holm
correction over everything examined, quadrants and recommendations that fire on evidence.

Cost: O(cells x counters) per segment, whatever the number of responses behind the counters;
the number of segments is bounded by the model's `findings` limits.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone

from shared import cells as segment_codec
from shared.cells import parse_cell_key

from shared.instruments import questions_of, segment_questions

from . import dimensions as dims
from . import disclosure, stats
from .counts import Counts
from .model import ALIGNMENT_DIMENSIONS, PILLARS, band

OVERALL = "overall"


class TooMuchWork(ValueError):
    """A request would examine or list more than the model's limits allow (answered 422)."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


def _label(filters: dict) -> str:
    if not filters:
        return "All customers"
    return " · ".join(f"{name.replace('_', ' ').capitalize()}: {value.replace('_', ' ')}"
                      for name, value in filters.items())


def segment_key(filters: dict) -> str:
    return segment_codec.segment_key(filters) or OVERALL


class Scorer:
    """Scores any set of customer cells against the vendor's profile under one model."""

    def __init__(self, model: dict, customer_definition: dict, vendor: Counts):
        self.model = model
        self.vendor = vendor
        self.confidence = model.get("confidence", 0.95)
        questions = questions_of(customer_definition)
        self.kinds = {qid: q["type"] for qid, q in questions.items()}
        self.option_labels = {qid: {o["value"]: o["label"] for o in q.get("options", [])}
                              for qid, q in questions.items()}
        self.source_labels = self.option_labels.get(model["alignment"]["A4"]["customer_sources"],
                                                    {})
        self._staff: dict | None = None

    def alignment(self, customers: Counts) -> dict[str, dims.Dimension]:
        a, c, v = self.model["alignment"], self.confidence, self.vendor
        return {
            "A1": dims.timing(customers, v, a["A1"], c),
            "A2": dims.mode_fit(customers, v, a["A2"], c, a["A2"].get("job_titles", {})),
            "A3": dims.content_fit(customers, v, a["A3"], c),
            "A4": dims.channel_fit(customers, v, a["A4"], c, self.source_labels),
            "A5": dims.team_coverage(customers, v, a["A5"], c),
            "A6": dims.experience(customers, a["A6"], c),
            "A7": dims.perception(customers, v, a["A7"], c, self.kinds),
        }

    def readiness(self, customers: Counts) -> dict[str, dims.Dimension]:
        r = self.model["readiness"]
        if self._staff is None:  # the vendor side is the same for every segment
            self._staff = {p: dims.staff_ratings(self.vendor, r["pillars"][p], r,
                                                  self.confidence) for p in PILLARS}
        return {p: dims.pillar(customers, self.vendor, r["pillars"][p], r, self.confidence,
                               self._staff[p]) for p in PILLARS}

    @staticmethod
    def composite(parts: dict[str, dims.Dimension], weights: dict[str, float]) -> dims.Dimension:
        scored = {k: d for k, d in parts.items() if d.score is not None and weights.get(k)}
        if not scored:
            return dims.none("No dimension could be scored.")
        total = sum(weights[k] for k in scored)
        value = sum(weights[k] * d.score for k, d in scored.items()) / total
        low = high = None
        if all(d.low is not None for d in scored.values()):
            low = sum(weights[k] * d.low for k, d in scored.items()) / total
            high = sum(weights[k] * d.high for k, d in scored.items()) / total
        return dims.Dimension(value, low, high, min(d.n for d in scored.values()))


def _r(x, digits=1):
    return None if x is None else round(x, digits)


def _dimension_json(model, d: dims.Dimension, kind: str, title: str | None = None) -> dict:
    out = {"score": _r(d.score), "band": band(model, d.score, kind),
           "interval": [_r(d.low), _r(d.high)] if d.low is not None else None, "n": d.n}
    if title:
        out["title"] = title
    if d.missing:
        out["missing"] = d.missing
    return out


def _status(model: dict, n: int) -> str:
    limits = model["suppression"]
    if n < limits["hide_below"]:
        return "suppressed"
    if n < limits["insufficient_below"]:
        return "insufficient"
    if n < limits["low_confidence_below"]:
        return "low_confidence"
    return "ok"


def _quadrants(a2: dims.Dimension) -> list[dict]:
    jobs = (a2.inputs or {}).get("jobs", {})
    if not jobs:
        return []
    mean_i = sum(j["importance_pomp"] for j in jobs.values()) / len(jobs)
    mean_p = sum(j["match_pct"] for j in jobs.values()) / len(jobs)
    names = {(True, False): "concentrate here", (True, True): "keep up the good work",
             (False, False): "low priority", (False, True): "possible overkill"}
    order = ["concentrate here", "keep up the good work", "low priority", "possible overkill"]
    items = [{"item": job, "importance": _r(j["importance_pomp"]),
              "performance": _r(j["match_pct"]),
              "quadrant": names[(j["importance_pomp"] >= mean_i, j["match_pct"] >= mean_p)]}
             for job, j in jobs.items()]
    items.sort(key=lambda i: (order.index(i["quadrant"]), -(i["importance"] - i["performance"])))
    return items


def _charts(alignment: dict, scorer: "Scorer", model: dict) -> dict:
    """What the brief's charts draw, as shares (no raw counts below the segment level)."""
    charts: dict = {}
    a1 = alignment["A1"].inputs
    if a1:
        bins = [0] * 10
        for value, count in a1["customer_histogram"].items():
            bins[min(9, int(value) // 10)] += count
        total = sum(bins)
        charts["timing"] = {"bins_pct": [_r(100 * b / total) for b in bins],
                            "customer_median": a1["customer_median"]["value"],
                            "vendor_point": a1["vendor_point"]}
    a3 = alignment["A3"].inputs
    if a3:
        labels = scorer.option_labels.get(model["alignment"]["A3"]["customer_content"], {})
        content = a3["content"]
        charts["content"] = sorted(
            ({"item": t, "label": labels.get(t, t), "useful_pct": _r(100 * u),
              "published_pct": _r(100 * content["vendor_share"][t]),
              "gated_pct": _r(100 * a3["vendor_gated_share"].get(t, 0))}
             for t, u in content["useful_share"].items()), key=lambda c: -c["useful_pct"])
    formats = (a3 or {}).get("formats") or {}
    if formats:
        labels = scorer.option_labels.get(model["alignment"]["A3"]["customer_formats"], {})
        charts["formats"] = sorted(
            ({"item": t, "label": labels.get(t, t), "useful_pct": _r(100 * u),
              "published_pct": _r(100 * formats["vendor_share"][t])}
             for t, u in formats["useful_share"].items()), key=lambda c: -c["useful_pct"])
    a4 = alignment["A4"].inputs
    if a4:
        charts["channels"] = sorted(
            ({"item": t, "label": scorer.source_labels.get(t, t), "used_pct": _r(100 * u),
              "present_pct": _r(100 * a4["vendor_share"][t])}
             for t, u in a4["useful_share"].items()), key=lambda c: -c["used_pct"])
    return charts


_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)(?::([^}]*))?\}")


def _fill(template: str, metrics: dict) -> str:
    def one(match):
        value = metrics.get(match.group(1))
        if value is None:
            return "n/a"
        return format(value, match.group(2) or "")
    return _FIELD.sub(one, template)




# -- which segments a report examines ---------------------------------------------------------

def _universe(cells: list[dict], segments: dict[str, list[str]], names: list[str],
              limits: dict) -> tuple[dict[str, tuple[dict, frozenset[int]]], int]:
    """Every non-empty segment (attribute values and their crosses) down to the deepest depth
    whose segments still fit the model's limit, with the cells each unites. Depends only on the
    counters, so every request sees (a subset of) the same segments."""
    attributes = [n for n in sorted(names) if segments.get(n)]
    allowed = {n: set(segments[n]) for n in attributes}
    valid = [{n: attrs[n] for n in attributes if attrs.get(n) in allowed[n]} for attrs in cells]
    universe: dict[str, tuple[dict, set[int]]] = {}
    depth = 0
    for d in range(1, min(limits["max_depth"], len(attributes)) + 1):
        layer: dict[str, tuple[dict, set[int]]] = {}
        for index, attrs in enumerate(valid):
            for combo in itertools.combinations(sorted(attrs), d):
                filters = {k: attrs[k] for k in combo}
                layer.setdefault(segment_key(filters), (filters, set()))[1].add(index)
        if len(universe) + len(layer) > limits["max_segments"]:
            if d == 1:
                raise TooMuchWork("segments", f"The responses fall in {len(layer)} segment "
                                  f"values; a report examines at most "
                                  f"{limits['max_segments']}. Define fewer segment values.")
            break
        universe.update(layer)
        depth = d
    return {k: (f, frozenset(c)) for k, (f, c) in universe.items()}, depth


def _listed(segments: dict[str, list[str]], names: list[str], crosses: list[list[str]],
            depth: int, limits: dict, also: list[dict] = ()) -> list[dict]:
    """overall, then one segment per attribute value, then every combination of each cross
    asked for (the same as before findings existed), then the single segments asked for."""
    plan = [{}]
    for name in names:
        plan += [{name: value} for value in segments.get(name, [])]
    for filters in also:
        if len(filters) > max(depth, 1):
            raise TooMuchWork("segment", f"Segments crossing {len(filters)} attributes are not "
                              f"available for this survey: at most {depth}.")
        plan.append(dict(filters))
    for position, cross in enumerate(crosses):
        if len(cross) > depth:
            raise TooMuchWork(f"segment_by.{position}",
                              f"Crosses of {len(cross)} segments are not available for this "
                              f"survey: at most {depth} (the model's limit and the number of "
                              "segment combinations its responses fall in).")
        combos = 1
        for name in cross:
            combos *= len(segments.get(name, []))
        if len(plan) + combos > limits["max_listed"]:
            raise TooMuchWork(f"segment_by.{position}",
                              f"The cross {' x '.join(cross)} has {combos} combinations; a "
                              f"report lists at most {limits['max_listed']} segments.")
        for combo in itertools.product(*(segments.get(name, []) for name in cross)):
            plan.append(dict(zip(cross, combo)))
    unique, seen = [], set()
    for filters in plan:
        key = segment_key(filters)
        if key not in seen:
            seen.add(key)
            unique.append(filters)
    return unique


# -- labels and sentences ---------------------------------------------------------------------

def _reader_label(filters: dict, adjectives: set[str]) -> str:
    """'Large, long-standing customers'; custom attributes follow: '... with region emea'."""
    if not filters:
        return "All customers"
    words = [filters[k].replace("_", "-") for k in sorted(filters) if k in adjectives]
    others = [f"{k.replace('_', ' ')} {filters[k].replace('_', ' ')}" for k in sorted(filters)
              if k not in adjectives]
    label = ", ".join(words) + (" customers" if words else "customers")
    if others:
        label += " with " + " and ".join(others)
    return label[0].upper() + label[1:]


# -- recommendation rules on evidence -------------------------------------------------------------

def _condition_p(cond: dict, metrics: dict, errors: dict) -> float | None:
    """p-value that the condition does NOT hold (small: it holds with confidence 1 - p)."""
    value = metrics.get(cond["metric"])
    if value is None or isinstance(value, str):
        return None
    threshold, op = cond["value"], cond["op"]
    if cond["metric"] == "readiness.consistency_penalty":
        return metrics.get("readiness.consistency_p", 1.0)  # a test on the staff's spread
    if cond["metric"] == "alignment.interval_width" or cond["metric"] == "n":
        holds = {"<": value < threshold, "<=": value <= threshold, ">": value > threshold,
                 ">=": value >= threshold}[op]
        return 0.0 if holds else 1.0  # a fact about the sample itself, not an inference
    below, above = errors.get(cond["metric"], (None, None))
    se = below if op in (">", ">=") else above
    if se is None:
        return None
    return stats.one_sided_p(value, threshold, op, se)


def _rule_p(rule: dict, metrics: dict, errors: dict, filters: dict) -> tuple[float, float] | None:
    """(p, distance past the first threshold) if the rule applies to this segment, else None.
    Several conditions must all hold: the largest of their p-values (intersection-union)."""
    p, distance = 0.0, None
    for cond in rule["when"]:
        if "segment" in cond:
            if filters.get(cond["segment"]) != cond["equals"]:
                return None
            continue
        cp = _condition_p(cond, metrics, errors)
        if cp is None:
            return None
        p = max(p, cp)
        if distance is None:
            distance = abs(metrics[cond["metric"]] - cond["value"])
    return p, distance or 0.0


def _holm_family(items: list[dict], alpha: float) -> None:
    """Holm over one family of rule evaluations; sets 'confidence' (1 - adjusted p, with the
    family's share of alpha scaled back to the report's) and 'fires'."""
    adjusted = stats.holm([i["p"] for i in items])
    share = alpha / 2  # two families (vendor-wide and per segment) share the report's alpha
    for item, p_adj in zip(items, adjusted):
        p_report = min(1.0, p_adj * alpha / share)
        item["confidence"] = round(1 - p_report, 4)
        item["fires"] = p_adj < share


def _metrics(scorer: "Scorer", n: int, alignment: dict, composite: dims.Dimension,
             readiness: dict | None = None, ready: dims.Dimension | None = None
             ) -> tuple[dict, dict]:
    """What recommendation rules read, and the standard errors (below, above) of each."""
    z = stats.z_value(scorer.confidence)
    metrics: dict = {"n": n}
    errors: dict = {}
    for k, d in {**alignment, **(readiness or {})}.items():
        metrics[k] = d.score
        if d.score is not None:
            if d.comparison_se is not None:
                errors[k] = (d.comparison_se, d.comparison_se)
            elif d.low is not None:
                errors[k] = ((d.score - d.low) / z, (d.high - d.score) / z)
        for name, value in d.metrics.items():
            metrics.setdefault(name, value)
        errors.update(d.metric_errors)
    metrics["alignment"] = composite.score
    metrics["alignment.interval_width"] = (composite.high - composite.low
                                           if composite.low is not None else None)
    if readiness is not None:
        pillars = scorer.model["readiness"]["pillars"]
        consistent = [k for k, d in readiness.items()
                      if pillars[k].get("consistency") and d.score is not None]
        metrics["readiness"] = ready.score if ready else None
        metrics["readiness.consistency_penalty"] = max(
            (d.metrics.get("penalty", 0) for d in readiness.values() if d.score is not None),
            default=0)
        metrics["readiness.max_sd"] = max(
            (readiness[k].metrics.get("max_sd", 0) for k in consistent), default=0)
        metrics["readiness.consistency_p"] = min(1.0, len(consistent) * min(
            (readiness[k].metrics.get("consistency_p", 1.0) for k in consistent), default=1.0))
    return metrics, errors


def _comparisons(key: str, mine: tuple, theirs: tuple, rest_n: int, z: float) -> list[dict]:
    (alignment, composite), (rest_alignment, rest_composite) = mine, theirs
    pairs = {"alignment": (composite, rest_composite),
             **{k: (alignment[k], rest_alignment[k]) for k in ALIGNMENT_DIMENSIONS}}
    out = []
    for metric, (a, b) in pairs.items():
        if a.score is None or b.score is None:
            continue
        se_a, se_b = a.se, b.se
        if se_a is None or se_b is None or se_a + se_b <= 0:
            continue
        difference = a.score - b.score
        se = (se_a ** 2 + se_b ** 2) ** 0.5
        out.append({"segment": key, "metric": metric, "value": a.score, "rest_value": b.score,
                    "difference": difference,
                    "interval": [difference - z * se, difference + z * se],
                    "p": stats.two_sided_p(difference, se), "rest_n": rest_n})
    return out


def _sentence(model: dict, finding: dict, metrics: dict) -> str:
    templates = model["findings"]["sentences"]
    label = finding["segment_label"]
    difference = finding["_difference"]
    fields = {**metrics, "segment_label": label,
              "segment_label_lower": label[0].lower() + label[1:],
              "value": finding["_value"], "rest_value": finding["_rest_value"],
              "difference": difference, "abs_difference": abs(difference),
              "direction": "higher" if difference > 0 else "lower",
              "better_worse": "better" if difference > 0 else "worse",
              "more_less": "more" if difference > 0 else "less",
              "title": finding["metric_name"]}
    return _fill(templates.get(finding["metric"], templates["alignment"]), fields)


def _nested(a: dict, b: dict) -> bool:
    """Whether one segment lies within the other (their filters are nested)."""
    small, large = (a, b) if len(a) >= len(b) else (b, a)
    return all(small.get(k) == v for k, v in large.items())


def _without_echoes(items: list[dict], same) -> list[dict]:
    """Ranked items minus those that repeat a higher-ranked one in a nested segment: "small
    customers" and each "small, <tenure> customers" showing the same gap are one finding."""
    kept: list[dict] = []
    for item in items:
        if not any(same(item, k) and _nested(item["filters"], k["filters"]) for k in kept):
            kept.append(item)
    return kept


def _headline(model: dict, overall: dict, findings: list[dict]) -> str:
    if findings:
        return findings[0]["sentence"]
    settings = model["findings"]
    if overall["status"] == "suppressed" or overall["alignment"]["score"] is None:
        return _fill(settings["too_few"], {"hide_below": model["suppression"]["hide_below"]})
    alignment = overall["alignment"]
    match = {"leading": "matches", "aligned": "broadly matches",
             "developing": "partly matches"}.get(alignment["band"], "does not match")
    return _fill(settings["no_findings"], {"match": match, "alignment": alignment["score"],
                                           "alignment_band": alignment["band"]})


def build_report(cells: dict[str, dict[str, int]], *, model: dict, customer_definition: dict,
                 segments: dict[str, list[str]], customer_names: list[str],
                 crosses: list[list[str]] = (), survey_id: str | None = None,
                 explain: bool = False, also: list[dict] = (),
                 cell_weights: dict[str, float] | None = None) -> dict:
    """also: single segments to list besides the default ones (what explain asks about).
    cell_weights: {customer cell key: weight of each of its respondents} (weighting.py): each
    cell's histograms are scaled by its weight, each segment's merged ones to Kish's n_eff."""
    limits = model["findings"]
    hide = model["suppression"]["hide_below"]
    insufficient = model["suppression"]["insufficient_below"]
    customer_attrs, customer_counters, vendor_cells, customer_keys = [], [], [], []
    for key in sorted(cells):
        kind, attributes = parse_cell_key(key)
        if kind == "customer":
            customer_keys.append(key)
            customer_attrs.append(attributes)
            customer_counters.append(cells[key])
        elif kind == "vendor":
            vendor_cells.append(cells[key])
    if len(customer_counters) > limits["max_cells"]:
        raise TooMuchWork("segments", f"The responses fall in {len(customer_counters)} "
                          f"segment cells; a report handles at most {limits['max_cells']}. "
                          "Define fewer segment values.")
    vendor = Counts.merge(vendor_cells)
    scorer = Scorer(model, customer_definition, vendor)
    weights = model["alignment"]["weights"]
    z = stats.z_value(scorer.confidence)
    adjectives = set(segment_questions(customer_definition))

    # Which segments exist, which may be published, which are examined.
    universe, depth = _universe(customer_attrs, segments, customer_names, limits)
    listed = _listed(segments, customer_names, list(crosses), depth, limits, list(also))
    everyone = frozenset(range(len(customer_counters)))
    cell_n = [c.get("n", 0) for c in customer_counters]
    rows = [disclosure.Row(OVERALL, everyone, 0)] + [
        disclosure.Row(key, cellset, len(filters)) for key, (filters, cellset) in universe.items()]
    safe = disclosure.publishable(rows, cell_n, hide)
    cells_of = {key: cellset for key, (_, cellset) in universe.items()}
    cells_of[OVERALL] = everyone
    filters_of = {key: filters for key, (filters, _) in universe.items()}
    filters_of[OVERALL] = {}

    per_cell = [Counts(counters) for counters in customer_counters]  # parsed once
    weight = None
    if cell_weights is not None:
        weight = [cell_weights.get(key, 0.0) for key in customer_keys]
        per_cell = [c.scaled(w) for c, w in zip(per_cell, weight)]
    merged: dict[frozenset, Counts] = {frozenset(): Counts()}

    def union(cellset: frozenset) -> Counts:
        combined = Counts.combine([per_cell[i] for i in sorted(cellset)])
        if weight is not None and combined.n > 0:  # histograms total Kish's n_eff
            squares = sum(cell_n[i] * weight[i] ** 2 for i in cellset)
            combined = combined.scaled(combined.n / squares)
        return combined

    def counts_of(key: str) -> Counts:
        cellset = cells_of.get(key, frozenset())
        if cellset not in merged:  # each distinct union of cells is merged once
            merged[cellset] = union(cellset)
        return merged[cellset]

    overall_counts = counts_of(OVERALL)
    aligned: dict[str, tuple] = {}

    def alignment_of(key: str, customers: Counts | None = None) -> tuple:
        if key not in aligned:
            parts = scorer.alignment(customers if customers is not None else counts_of(key))
            aligned[key] = (parts, scorer.composite(parts, weights))
        return aligned[key]

    examine_depth = min(limits["depth"], depth)
    asked = {segment_key(f) for f in listed if len(f) > 1 and f not in also}
    examined = [key for key, (filters, _) in universe.items()
                if (len(filters) <= examine_depth or key in asked) and key in safe
                and insufficient <= counts_of(key).n <= overall_counts.n - insufficient]

    # Every examined segment against the rest of the sample; Holm over all of them.
    comparisons = []
    for key in examined:
        rest = Counts.difference(overall_counts, counts_of(key)) if weight is None else \
            union(everyone - cells_of[key])
        comparisons += _comparisons(key, alignment_of(key), alignment_of("rest:" + key, rest),
                                    rest.respondents, z)
    settings = model["comparison"]
    for c, p_adj in zip(comparisons, stats.holm([c["p"] for c in comparisons])):
        c["p_adjusted"] = p_adj
        c["significant"] = p_adj < settings["alpha"] and abs(c["difference"]) >= settings[
            "min_difference"]

    # Full entries for the listed segments (more are added below for findings).
    entries: dict[str, dict] = {}
    rule_inputs: dict[str, tuple] = {}

    def entry_for(filters: dict) -> dict:
        key = segment_key(filters)
        customers = counts_of(key)
        entry = {"key": key, "label": _label(filters), "filters": filters,
                 "status": _status(model, customers.respondents)}
        if key != OVERALL and key not in safe:
            entry["status"] = "suppressed"
        if entry["status"] == "suppressed":
            # One note for both kinds of suppression: telling them apart would tell a reader
            # which hidden segments have at least `hide` respondents.
            entry.update(n=None, note=f"Fewer than {hide} responses: not shown, to protect "
                                      "respondents. Segments from which such a group could be "
                                      "worked out by subtraction are withheld the same way.")
            return entry
        alignment, composite = alignment_of(key)
        readiness = scorer.readiness(customers)
        ready = scorer.composite(readiness, model["readiness"]["weights"])
        titles = {k: model["alignment"][k]["title"] for k in ALIGNMENT_DIMENSIONS}
        pillar_titles = {k: model["readiness"]["pillars"][k]["title"] for k in PILLARS}
        entry["n"] = customers.respondents
        if weight is not None:
            entry["effective_n"] = round(customers.n, 1)
        entry["alignment"] = {**_dimension_json(model, composite, "alignment"),
                              "dimensions": {k: _dimension_json(model, d, "alignment", titles[k])
                                             for k, d in alignment.items()}}
        entry["readiness"] = {**_dimension_json(model, ready, "readiness"),
                              "pillars": {k: {**_dimension_json(model, d, "readiness",
                                                                pillar_titles[k]),
                                              **{name: d.inputs.get(name) for name in
                                                 ("self_assessed", "consistency_penalty",
                                                  "cap", "capped")}}
                                          for k, d in readiness.items()},
                              "vendor_respondents": vendor.n}
        nps_histogram = customers.numeric(model["alignment"]["A6"]["nps_item"])
        nps = stats.nps(nps_histogram, scorer.confidence)
        entry["nps"] = {**nps.as_dict(), "se": _r(stats.nps_se(nps_histogram)
                                                  if nps.n else None)}
        entry["quadrants"] = _quadrants(alignment["A2"])
        entry["charts"] = _charts(alignment, scorer, model)
        if explain:
            entry["explain"] = {k: {"formula": d.formula, "inputs": d.inputs, "metrics": d.metrics}
                                for k, d in {**alignment, **readiness}.items()}
        rule_inputs[key] = _metrics(scorer, customers.n, alignment, composite, readiness, ready)
        return entry

    for filters in listed:
        entry = entry_for(filters)
        entries[entry["key"]] = entry

    # Recommendation rules, on evidence: every listed and every examined segment.
    for key in examined:
        if key not in rule_inputs:
            rule_inputs[key] = _metrics(scorer, counts_of(key).n, *alignment_of(key))
    vendor_family, segment_family, facts = [], [], []
    for key, (metrics, errors) in rule_inputs.items():
        entry = entries.get(key)
        status = entry["status"] if entry else _status(model, metrics["n"])
        filters = filters_of.get(key, entry["filters"] if entry else {})
        for rule in model["recommendations"]:
            scope = rule.get("scope")
            if (scope == "overall" and filters) or (scope == "segments" and not filters):
                continue
            is_fact = rule["id"] == "collect-more"
            if is_fact and key not in entries:
                continue  # "collect more" speaks to segments the reader looks at
            if status == "insufficient" and not is_fact:
                continue
            evaluated = _rule_p(rule, metrics, errors, filters)
            if evaluated is None:
                continue
            item = {"rule": rule, "key": key, "filters": filters, "p": evaluated[0],
                    "distance": evaluated[1], "metrics": metrics}
            family = facts if is_fact else vendor_family if scope == "overall" else segment_family
            family.append(item)
    _holm_family(vendor_family, settings["alpha"])
    _holm_family(segment_family, settings["alpha"])
    for item in facts:
        item["confidence"], item["fires"] = 1.0, item["p"] == 0.0
    ranked = []
    for item in vendor_family + segment_family + facts:
        if not item["fires"]:
            continue
        rule, metrics = item["rule"], item["metrics"]
        ranked.append({
            "id": rule["id"], "segment": item["key"],
            "segment_label": _label(item["filters"]), "title": rule["title"],
            "action": _fill(rule["action"], metrics), "evidence": _fill(rule["evidence"], metrics),
            "rank_score": round((rule["priority"] * 10 + min(item["distance"], 100) / 10)
                                * item["confidence"], 2),
            "confidence": item["confidence"], "filters": item["filters"]})
    ranked.sort(key=lambda r: (-r["rank_score"], r["segment"].count("|"), r["segment"], r["id"]))
    ranked = _without_echoes(ranked, lambda a, b: a["id"] == b["id"])
    for r in ranked:
        r.pop("filters")

    # Findings: significant differences, ranked by gap x importance x confidence.
    importance = {**weights, "alignment": limits["composite_importance"]}
    titles = {k: model["alignment"][k]["title"] for k in ALIGNMENT_DIMENSIONS}
    titles["alignment"] = "Alignment"
    families = limits["metric_families"]
    findings = []
    for c in comparisons:
        if not c["significant"]:
            continue
        key = c["segment"]
        filters = filters_of[key]
        confidence = 1 - c["p_adjusted"]
        backing = next((r["id"] for r in ranked if r["segment"] == key and any(
            cond.get("metric") == c["metric"] or any(
                str(cond.get("metric", "")).startswith(prefix)
                for prefix in families.get(c["metric"], []))
            for cond in next(rule["when"] for rule in model["recommendations"]
                             if rule["id"] == r["id"]))), None)
        finding = {"segment": key, "segment_label": _reader_label(filters, adjectives),
                   "filters": filters, "metric": c["metric"], "metric_name": titles[c["metric"]],
                   "value": _r(c["value"]), "rest_value": _r(c["rest_value"]),
                   "difference": _r(c["difference"]),
                   "interval": [_r(c["interval"][0]), _r(c["interval"][1])],
                   "p_adjusted": round(c["p_adjusted"], 4), "n": counts_of(key).respondents,
                   "rest_n": c["rest_n"],
                   "priority": round(abs(c["difference"]) * importance[c["metric"]]
                                     * confidence, 2),
                   "recommendation": backing,
                   "_value": c["value"], "_rest_value": c["rest_value"],
                   "_difference": c["difference"]}
        finding["sentence"] = _sentence(model, finding, rule_inputs[key][0])
        findings.append(finding)
    findings.sort(key=lambda f: (-f["priority"], len(f["filters"]), f["segment"], f["metric"]))
    findings = _without_echoes(findings, lambda a, b: a["metric"] == b["metric"] and (
        a["_difference"] > 0) == (b["_difference"] > 0))[:limits["max_findings"]]
    for f in findings:
        for private in ("_value", "_rest_value", "_difference"):
            f.pop(private)

    # Segments that carry a finding or a recommendation are shown too.
    for key in [f["segment"] for f in findings] + [r["segment"] for r in ranked]:
        if key not in entries:
            entries[key] = entry_for(filters_of[key])
    by_segment: dict[str, list] = {}
    for c in comparisons:
        by_segment.setdefault(c["segment"], []).append({
            "metric": c["metric"], "difference": _r(c["difference"]),
            "interval": [_r(c["interval"][0]), _r(c["interval"][1])],
            "p_adjusted": round(c["p_adjusted"], 4), "significant": c["significant"],
            "rest_n": c["rest_n"]})
    for entry in entries.values():
        entry["comparisons"] = by_segment.get(entry["key"], [])
        entry["recommendations"] = [r for r in ranked if r["segment"] == entry["key"]]

    report_segments = list(entries.values())
    overall = report_segments[0]
    return {
        "survey_id": survey_id,
        "model": {"id": model["id"], "version": model["version"]},
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "responses": {"customer": overall_counts.respondents, "vendor": vendor.n},
        "weights": {"alignment": weights, "readiness": model["readiness"]["weights"]},
        "bands": model["bands"],
        "suppression": model["suppression"],
        "headline": _headline(model, overall, findings),
        "findings": findings,
        "examined": {"segments": len(examined), "comparisons": len(comparisons),
                     "depth": examine_depth, "error_control": "holm",
                     "alpha": settings["alpha"]},
        "overall": overall,
        "segments": report_segments,
        "recommendations": ranked,
    }
