"""Make the SYNTHETIC annotation file for specs/annotated.dspec. Not real human annotation.

Nobody labelled these questions. This script invents labels so the `annotate` block has
something to measure: it guesses each CosmosQA question's type from its wording (a
keyword rule, below), then simulates six annotators who copy that guess with a fixed
accuracy and otherwise pick another label at random. Every record says
`"synthetic": true`, and the annotators are called `sim_…`.

Seeded, so running it again writes the same bytes:

    .venv/bin/python examples/annotations/make_annotations.py

What it writes, beside this script:

- `cosmos_question_type.jsonl`: long format (item, annotator, role, label). `item` is the
  row's `_dsc_id`, the content id dsc gives a row of a source without a `key`.
- `cosmos_question_type.annotators.csv`: the roster (annotator, role).

So that the demonstration has something to show, some items get too few annotations or
none, and a few records are broken on purpose, each marked with a `gap` field: an item that
is not in the data, a label outside the schema's set, an annotator missing from the roster,
and an annotator who gives one item two different labels.
"""
from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

from dsc.io import SourceSpec, read_source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = "examples/data/cosmos_qa_only_question_answer.jsonl"
SEED = 20240611
LABELS = ("cause", "consequence", "other")
# (name, role, how often they give the keyword rule's label)
ANNOTATORS = (
    ("sim_crowd_1", "crowd", 0.93),
    ("sim_crowd_2", "crowd", 0.90),
    ("sim_crowd_3", "crowd", 0.87),
    ("sim_crowd_4", "crowd", 0.80),
    ("sim_expert_1", "domain_expert", 0.97),
    ("sim_expert_2", "domain_expert", 0.95),
)
NO_ANNOTATIONS = 6  # items nobody labelled yet
TOO_FEW = 8  # items with two crowd labels and no expert


def question_type(prompt: str) -> str:
    """The keyword rule the simulated annotators are scored against (a guess, not truth)."""
    text = prompt.lower()
    if re.match(r"\s*why\b", text) or re.search(r"\b(reason|cause[ds]?)\b", text):
        return "cause"
    if re.search(r"\b(will|would|might|may|going to)\b.*\bhappen|\bafter\b|\bnext\b|\bfuture\b|\bcontinue\b", text):
        return "consequence"
    return "other"


def label_for(rng: random.Random, truth: str, accuracy: float) -> str:
    if rng.random() < accuracy:
        return truth
    return rng.choice([x for x in LABELS if x != truth])


def main(out_dir: Path = HERE) -> None:
    rng = random.Random(SEED)
    rows = read_source(SourceSpec(name="cosmos", files=(DATA,)), ROOT).table
    ids = rows.column("_dsc_id").to_pylist()
    prompts = rows.column("prompt").to_pylist()
    order = list(range(len(ids)))
    rng.shuffle(order)
    unlabelled = set(order[:NO_ANNOTATIONS])
    too_few = set(order[NO_ANNOTATIONS:NO_ANNOTATIONS + TOO_FEW])
    crowd = [a for a in ANNOTATORS if a[1] == "crowd"]
    experts = [a for a in ANNOTATORS if a[1] == "domain_expert"]

    records = []
    for index, (item, prompt) in enumerate(zip(ids, prompts)):
        if index in unlabelled:
            continue
        truth = question_type(prompt)
        chosen = rng.sample(crowd, 2 if index in too_few else 3)
        if index not in too_few:
            chosen.append(rng.choice(experts))
        for name, role, accuracy in sorted(chosen):
            records.append({"item": item, "annotator": name, "role": role,
                            "label": label_for(rng, truth, accuracy), "synthetic": True})

    first = records[0]
    records += [
        {**first, "item": "not-a-row-id", "gap": "item id not in the data"},
        {**records[1], "label": "causal", "gap": "label outside the schema's set"},
        {**first, "annotator": "sim_crowd_9", "gap": "annotator not on the roster"},
        {**records[5], "label": next(x for x in LABELS if x != records[5]["label"]),
         "gap": "second, different label from the same annotator for the same item"},
    ]
    with open(out_dir / "cosmos_question_type.jsonl", "w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(out_dir / "cosmos_question_type.annotators.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["annotator", "role"])
        writer.writerows((name, role) for name, role, _ in ANNOTATORS)


if __name__ == "__main__":
    main()
