"""From per-cell counters to a score report: segments, dimensions, composites, bands,
suppression, comparisons with Holm correction, quadrants and ranked recommendations.

Cost: O(cells x counters) per segment, whatever the number of responses behind the counters.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone

from shared.cells import parse_cell_key

from . import dimensions as dims
from . import stats
from .counts import Counts
from .model import ALIGNMENT_DIMENSIONS, PILLARS, band

OVERALL = "overall"


def _label(filters: dict) -> str:
    if not filters:
        return "All customers"
    return " · ".join(f"{name.replace('_', ' ').capitalize()}: {value.replace('_', ' ')}"
                      for name, value in filters.items())


def segment_plan(segments: dict[str, list[str]], customer_names: list[str],
                 crosses: list[list[str]]) -> list[dict]:
    """overall, then one segment per attribute value, then every requested cross."""
    plan = [{}]
    for name in customer_names:
        plan += [{name: value} for value in segments.get(name, [])]
    for cross in crosses:
        for combo in itertools.product(*(segments.get(name, []) for name in cross)):
            plan.append(dict(zip(cross, combo)))
    unique, seen = [], set()
    for filters in plan:
        key = tuple(sorted(filters.items()))
        if key not in seen:
            seen.add(key)
            unique.append(filters)
    return unique


def segment_key(filters: dict) -> str:
    return "|".join(f"{k}={v}" for k, v in sorted(filters.items())) or OVERALL


class Scorer:
    """Scores any set of customer cells against the vendor's profile under one model."""

    def __init__(self, model: dict, customer_definition: dict, vendor: Counts):
        self.model = model
        self.vendor = vendor
        self.confidence = model.get("confidence", 0.95)
        questions = {q["id"]: q for s in customer_definition["sections"] for q in s["questions"]}
        self.kinds = {qid: q["type"] for qid, q in questions.items()}
        self.option_labels = {qid: {o["value"]: o["label"] for o in q.get("options", [])}
                              for qid, q in questions.items()}
        self.source_labels = self.option_labels.get(model["alignment"]["A4"]["customer_sources"],
                                                    {})

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
        return {p: dims.pillar(customers, self.vendor, r["pillars"][p], r, self.confidence)
                for p in PILLARS}

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


def _fires(rule: dict, metrics: dict, filters: dict) -> float | None:
    """The rule's distance past its first threshold if every condition holds, else None."""
    distance = None
    for cond in rule["when"]:
        if "segment" in cond:
            if filters.get(cond["segment"]) != cond["equals"]:
                return None
            continue
        value = metrics.get(cond["metric"])
        if value is None:
            return None
        threshold, op = cond["value"], cond["op"]
        holds = {"<": value < threshold, "<=": value <= threshold, ">": value > threshold,
                 ">=": value >= threshold}[op]
        if not holds:
            return None
        if distance is None:
            distance = abs(value - threshold)
    return distance or 0.0


def build_report(cells: dict[str, dict[str, int]], *, model: dict, customer_definition: dict,
                 segments: dict[str, list[str]], customer_names: list[str],
                 crosses: list[list[str]] = (), survey_id: str | None = None,
                 explain: bool = False) -> dict:
    customer_cells = {}
    vendor_cells = []
    for key, counters in cells.items():
        kind, attributes = parse_cell_key(key)
        if kind == "customer":
            customer_cells[key] = (attributes, counters)
        elif kind == "vendor":
            vendor_cells.append(counters)
    vendor = Counts.merge(vendor_cells)
    scorer = Scorer(model, customer_definition, vendor)
    weights = model["alignment"]["weights"]
    plan = segment_plan(segments, customer_names, list(crosses))

    def counts_for(filters: dict, inside: bool = True) -> Counts:
        chosen = [c for attrs, c in customer_cells.values()
                  if all(attrs.get(k) == v for k, v in filters.items()) == inside]
        return Counts.merge(chosen)

    report_segments, comparisons = [], []
    for filters in plan:
        customers = counts_for(filters)
        entry = {"key": segment_key(filters), "label": _label(filters), "filters": filters,
                 "status": _status(model, customers.n)}
        if entry["status"] == "suppressed":
            entry.update(n=None, note=f"Fewer than {model['suppression']['hide_below']} "
                                      "responses: not shown, to protect respondents.")
            report_segments.append(entry)
            continue
        alignment = scorer.alignment(customers)
        composite = scorer.composite(alignment, weights)
        readiness = scorer.readiness(customers)
        ready = scorer.composite(readiness, model["readiness"]["weights"])
        titles = {k: model["alignment"][k]["title"] for k in ALIGNMENT_DIMENSIONS}
        pillar_titles = {k: model["readiness"]["pillars"][k]["title"] for k in PILLARS}
        entry["n"] = customers.n
        entry["alignment"] = {**_dimension_json(model, composite, "alignment"),
                              "dimensions": {k: _dimension_json(model, d, "alignment", titles[k])
                                             for k, d in alignment.items()}}
        entry["readiness"] = {**_dimension_json(model, ready, "readiness"),
                              "pillars": {k: {**_dimension_json(model, d, "readiness",
                                                                pillar_titles[k]),
                                              **{key: d.inputs.get(key) for key in
                                                 ("self_assessed", "consistency_penalty",
                                                  "cap", "capped")}}
                                          for k, d in readiness.items()},
                              "vendor_respondents": vendor.n}
        nps = stats.nps(customers.numeric(model["alignment"]["A6"]["nps_item"]),
                        scorer.confidence)
        entry["nps"] = {**nps.as_dict(), "se": _r(stats.nps_se(
            customers.numeric(model["alignment"]["A6"]["nps_item"])) if nps.n else None)}
        entry["quadrants"] = _quadrants(alignment["A2"])
        entry["charts"] = _charts(alignment, scorer, model)
        if explain:
            entry["explain"] = {k: {"formula": d.formula, "inputs": d.inputs, "metrics": d.metrics}
                                for k, d in {**alignment, **readiness}.items()}
        metrics = {"n": customers.n}
        for k, d in {**alignment, **readiness}.items():
            metrics[k] = d.score
            for name, value in d.metrics.items():
                metrics.setdefault(name, value)
        metrics["alignment"] = composite.score
        metrics["readiness"] = ready.score
        metrics["alignment.interval_width"] = (composite.high - composite.low
                                               if composite.low is not None else None)
        metrics["readiness.consistency_penalty"] = max(
            (d.metrics.get("penalty", 0) for d in readiness.values() if d.score is not None),
            default=0)
        metrics["readiness.max_sd"] = max(
            (d.metrics.get("max_sd", 0) for k, d in readiness.items()
             if model["readiness"]["pillars"][k].get("consistency")), default=0)
        entry["_metrics"] = metrics
        if filters:
            rest = counts_for(filters, inside=False)
            if rest.n >= model["suppression"]["hide_below"]:
                rest_alignment = scorer.alignment(rest)
                rest_composite = scorer.composite(rest_alignment, weights)
                pairs = {"alignment": (composite, rest_composite),
                         **{k: (alignment[k], rest_alignment[k]) for k in ALIGNMENT_DIMENSIONS}}
                for metric, (mine, theirs) in pairs.items():
                    if mine.score is None or theirs.score is None:
                        continue
                    se_a, se_b = mine.estimate.se, theirs.estimate.se
                    if se_a is None or se_b is None:
                        continue
                    difference = mine.score - theirs.score
                    se = (se_a ** 2 + se_b ** 2) ** 0.5
                    z = stats.z_value(scorer.confidence)
                    comparisons.append({
                        "segment": entry["key"], "metric": metric,
                        "difference": difference, "interval": [difference - z * se,
                                                               difference + z * se],
                        "p": stats.two_sided_p(difference, se), "rest_n": rest.n})
        report_segments.append(entry)

    # Holm across every comparison the report makes.
    adjusted = stats.holm([c["p"] for c in comparisons])
    settings = model["comparison"]
    by_segment: dict[str, list] = {}
    for c, p_adj in zip(comparisons, adjusted):
        c["p_adjusted"] = p_adj
        c["significant"] = p_adj < settings["alpha"] and abs(c["difference"]) >= settings[
            "min_difference"]
        by_segment.setdefault(c["segment"], []).append({
            "metric": c["metric"], "difference": _r(c["difference"]),
            "interval": [_r(c["interval"][0]), _r(c["interval"][1])],
            "p_adjusted": round(p_adj, 4), "significant": c["significant"],
            "rest_n": c["rest_n"]})

    ranked = []
    for entry in report_segments:
        entry["comparisons"] = by_segment.get(entry["key"], [])
        metrics = entry.pop("_metrics", None)
        entry["recommendations"] = []
        if metrics is None:
            continue
        for rule in model["recommendations"]:
            scope = rule.get("scope")
            if (scope == "overall" and entry["filters"]) or (scope == "segments"
                                                             and not entry["filters"]):
                continue
            if entry["status"] == "insufficient" and rule["id"] != "collect-more":
                continue
            distance = _fires(rule, metrics, entry["filters"])
            if distance is None:
                continue
            rec = {"id": rule["id"], "segment": entry["key"], "segment_label": entry["label"],
                   "title": rule["title"], "action": _fill(rule["action"], metrics),
                   "evidence": _fill(rule["evidence"], metrics),
                   "rank_score": round(rule["priority"] * 10 + min(distance, 100) / 10, 2)}
            entry["recommendations"].append(rec)
            ranked.append(rec)
        entry["recommendations"].sort(key=lambda r: -r["rank_score"])
    ranked.sort(key=lambda r: -r["rank_score"])

    overall = report_segments[0]
    return {
        "survey_id": survey_id,
        "model": {"id": model["id"], "version": model["version"]},
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "responses": {"customer": sum(c.get("n", 0) for _, c in customer_cells.values()),
                      "vendor": vendor.n},
        "weights": {"alignment": weights, "readiness": model["readiness"]["weights"]},
        "bands": model["bands"],
        "suppression": model["suppression"],
        "overall": overall,
        "segments": report_segments,
        "recommendations": ranked,
    }
