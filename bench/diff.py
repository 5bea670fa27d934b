"""Benchmark: the semantic diff on large synthetic policies, and on two 30,000-word real ones.

Usage: .venv/bin/python bench/diff.py [--runs N]

The real pair: the old and the new versions of two long policies of the development corpus
(../shared/corpus/ota-dev/, pairs 005 and 026), each side concatenated into one document of about
32,000 words, compared as `policygen diff old.md new.md` compares them. Prints the CPU time of the
import of both files, of loading them, and of the diff with classification and prose analysis
(the fastest of N runs), and whether the three together stay under the 1 s of the claim; start-up
(the interpreter and policygen's own imports) is not counted. A second real pair does the same
with pairs 023, 034 and 059, the corpus's pairs with the most changed sentences (about 25,000 words
old, 32,000 new): there the prose analysis, not the import, is most of the time.

Builds a policy with N clauses (N = 2,000 and 20,000) from the facts of the test fixture
project, and a new version with 1 % of the clauses reworded, 0.5 % moved, 0.5 % renamed,
0.5 % added and 0.5 % removed, plus a few fact changes. Prints one table: the time of the diff
and classification (the stage the claim is about), of loading both versions, and the ratio
between the two sizes. The claim in docs/diff.md: under 1 s for 2,000 clauses, and 10x the
clauses costs at most 12x the time. Also the diff of a policy that is
one long list against the same text as paragraphs (the alignment's worst case on real pages).
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from policygen.changes import diff, prose
from policygen.changes.diff import diff_policies
from policygen.changes.rules import classify, load_rules, source_labels
from policygen.importers.files import DOCUMENT_ID, document_versions
from policygen.source.load import load_project

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "projects" / "mini"
CORPUS = ROOT.parent / "shared" / "corpus" / "ota-dev"
REAL_PAIRS = ("005", "026")
# The three pairs of the corpus whose diff has the most changed sentences to read (about 25,000
# words old, 32,000 new): the prose analysis's worst case, where the first pair is the import's.
CHANGED_PAIRS = ("023", "034", "059")
WORDS = ("data", "service", "account", "request", "payment", "record", "support", "security", "partner", "law",
         "transfer", "period", "consent", "access", "review", "notice", "update", "team", "process", "system")


def sentence(rng: random.Random, n: int = 22) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def make_prose(rng: random.Random, clauses: int) -> list[tuple[str, str]]:
    blocks, section = [], 0
    for i in range(clauses):
        if i % 20 == 0:
            section += 1
            blocks.append((f"s{section}", f"## Section {section} {{#s{section}}}"))
        # About 150 characters a clause: 20,000 of them stay under the 4 MB that policygen reads from one file.
        blocks.append((f"c{i}", f"{{#c{i}}}\n{sentence(rng, 14)} {{{{data.email}}}} {sentence(rng, 6)}"))
    return blocks


def write(project: Path, blocks: list[tuple[str, str]]) -> None:
    (project / "sources" / "mini" / "policy.md").write_text("# Big policy\n\n" + "\n\n".join(text for _, text in blocks) + "\n", encoding="utf-8")


def mutate(rng: random.Random, blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    new = list(blocks)
    clauses = [i for i, (ident, _) in enumerate(new) if ident.startswith("c")]
    n = len(clauses)
    for i in rng.sample(clauses, n // 100):  # reworded
        ident, text = new[i]
        new[i] = (ident, text + " " + sentence(rng, 6))
    for i in rng.sample(clauses, n // 200):  # renamed: same text, new ID
        ident, text = new[i]
        new[i] = (ident + "x", text.replace(f"{{#{ident}}}", f"{{#{ident}x}}"))
    removed = set(rng.sample(clauses, n // 200))
    new = [b for i, b in enumerate(new) if i not in removed]
    for k in range(n // 200):  # added
        at = rng.randrange(1, len(new))
        new.insert(at, (f"new{k}", f"{{#new{k}}}\n{sentence(rng)}"))
    for _ in range(n // 200):  # moved
        i = rng.randrange(1, len(new))
        block = new.pop(i)
        new.insert(rng.randrange(1, len(new)), block)
    return new


def measure(clauses: int, runs: int) -> tuple[float, float, float]:
    rng = random.Random(clauses)
    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old", Path(tmp) / "new"
        shutil.copytree(MINI, old)
        shutil.copytree(MINI, new)
        blocks = make_prose(rng, clauses)
        write(old, blocks)
        write(new, mutate(rng, blocks))
        policy = new / "sources" / "mini" / "policy.yaml"
        policy.write_text(policy.read_text(encoding="utf-8").replace("period: P5Y", "period: P7Y").replace("minimum_age: 16", "minimum_age: "
            "13"), encoding="utf-8")
        start = time.perf_counter()
        old_project, new_project = load_project(old), load_project(new)
        load_time = time.perf_counter() - start
        rules, labels = load_rules(new_project), source_labels(new_project)
        # The loaded token trees are millions of long-lived objects; the cyclic garbage
        # collector would rescan them on every collection the diff's allocations trigger,
        # which measures the heap, not the diff. A file diff does the same with what its imports
        # make (policygen.importers.files), and a build with what it loads (policygen.build).
        gc.collect()
        gc.freeze()
        times = []
        for _ in range(runs):
            # CPU time of this process: other programs on the machine do not count.
            start = time.process_time()
            graded = classify(diff_policies(old_project.policies["mini"], new_project.policies["mini"]), rules, labels)
            times.append(time.process_time() - start)
        gc.unfreeze()
        assert graded
        return min(times), statistics.median(times), load_time


def measure_real(runs: int, pairs: tuple[str, ...] = REAL_PAIRS) -> tuple[int, float, float, float] | None:
    """(words of the new version, import s, load s, diff s) for a real 30,000-word pair: the old
    and the new versions of the corpus ``pairs``, each side concatenated. Each run starts with the
    texts policygen keeps between calls forgotten, as in a ``policygen diff`` of its own: the
    fastest run is not one that found the earlier runs' work done."""
    if not CORPUS.is_dir():
        return None
    from datetime import date

    with tempfile.TemporaryDirectory() as tmp:
        old, new = Path(tmp) / "old.md", Path(tmp) / "new.md"
        for path, side in ((old, "A"), (new, "B")):
            path.write_text("\n\n".join((CORPUS / pair / f"{side}.md").read_text(encoding="utf-8") for pair in pairs), encoding="utf-8")
        words = len(new.read_text(encoding="utf-8").split())
        imports, loads, diffs = [], [], []
        for _ in range(runs):
            forget_texts()
            start = time.process_time()
            with document_versions(old, new, "en", date(2026, 1, 1)) as (old_root, new_root, converted):
                imported = time.process_time()
                parsed = {c.markdown: c.document for c in converted}  # as api.diff passes them
                old_project, new_project = load_project(old_root, parsed=parsed), load_project(new_root, parsed=parsed)
                loaded = time.process_time()
                rules, labels = load_rules(new_project), source_labels(new_project)
                graded = classify(diff_policies(old_project.policies[DOCUMENT_ID], new_project.policies[DOCUMENT_ID]), rules, labels)
                done = time.process_time()
            assert graded
            imports.append(imported - start)
            loads.append(loaded - imported)
            diffs.append(done - loaded)
        return words, min(imports), min(loads), min(diffs)


def forget_texts() -> None:
    """Empty the caches of the diff that are keyed by text (not the compiled lexicon: compiling it
    is once per process, like the imports)."""
    for kept in (prose.plain, prose._sentences, prose._norm, prose._contacts, prose._contact_set, prose._is_contact_line,
                 diff._tokens, diff._vocabulary, diff._counts, diff._positions, diff._sentence_keys):
        kept.cache_clear()


def one_list_and_paragraphs(folder: Path) -> tuple[Path, Path]:
    """The same 500 two-sentence items (seeded) written into ``folder`` as a policy that is one list
    (a page whose sections are items of one accordion list, as a crawl's Markdown gives it) and as
    one of 500 paragraphs; tests/test_diff.py diffs the same two files."""
    rng = random.Random(7)
    vocabulary = ["".join(rng.choice("abcdefghijklmnoprstuvw") for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    small = "the of and to we your data you our in for with or by".split()

    def said() -> str:
        return " ".join(rng.choice(vocabulary) if rng.random() < 0.6 else rng.choice(small) for _ in range(22)).capitalize() + "."

    items = [f"{said()} {said()}" for _ in range(500)]
    listed, paragraphs = folder / "list.md", folder / "paragraphs.md"
    listed.write_text("# Privacy\n\n" + "".join(f"- {item}\n" for item in items), encoding="utf-8")
    paragraphs.write_text("# Privacy\n\n" + "".join(f"{item}\n\n" for item in items), encoding="utf-8")
    return listed, paragraphs


def measure_list(runs: int) -> float:
    """Fastest CPU time of the diff of :func:`one_list_and_paragraphs`: every paragraph is a part
    of the one long clause (tests/test_diff.py checks that it is read so)."""
    from datetime import date

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        listed, paragraphs = one_list_and_paragraphs(Path(tmp))
        with document_versions(listed, paragraphs, "en", date(2026, 1, 1)) as (old_root, new_root, converted):
            parsed = {c.markdown: c.document for c in converted}
            old, new = load_project(old_root, parsed=parsed), load_project(new_root, parsed=parsed)
            for _ in range(runs):
                start = time.process_time()
                diff_policies(old.policies[DOCUMENT_ID], new.policies[DOCUMENT_ID])
                times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    small, small_median, small_load = measure(2000, args.runs)
    large, large_median, large_load = measure(20000, args.runs)
    print(f"{args.runs} runs; diff = CPU time of diff + classification (fastest run, and the median), load = parsing both versions once")
    print(f"| {'clauses':>8} | {'diff s':>7} | {'median s':>8} | {'load s':>7} |")
    print(f"| {'-' * 8}:| {'-' * 7}:| {'-' * 8}:| {'-' * 7}:|")
    print(f"| {2000:>8} | {small:>7.3f} | {small_median:>8.3f} | {small_load:>7.3f} |")
    print(f"| {20000:>8} | {large:>7.3f} | {large_median:>8.3f} | {large_load:>7.3f} |")
    print(f"10x clauses cost {large / small:.1f}x the diff time (limit: 12x; of the medians: {large_median / small_median:.1f}x); "
          f"2,000 clauses: {'under' if small < 1 else 'OVER'} 1 s")
    print(f"one list of 500 items against the same text as 500 paragraphs: diff {measure_list(max(1, min(args.runs, 3))):.2f} s "
          "(4.1 s before the alignment kept each text's word counts)")
    for pairs in (REAL_PAIRS, CHANGED_PAIRS):
        real = measure_real(max(1, min(args.runs, 3)), pairs)
        if real is not None:
            words, imported, loaded, diffed = real
            total = imported + loaded + diffed
            print(f"real pair ({'+'.join(pairs)}, {words:,} words): import of both files {imported:.2f} s, load {loaded:.2f} s, "
                  f"diff + classification + prose analysis {diffed:.2f} s; total beyond start-up {total:.2f} s "
                  f"({'under' if total < 1 else 'OVER'} 1 s)")


if __name__ == "__main__":
    main()
