"""RAG answers on XQuAD (token F1, EM, citations, latency per stage) and what self-query / expansion do to nDCG@10.

Answers: for German and English separately, the 240 XQuAD paragraphs are ingested into a fresh workspace
and embedded; a held-out subset of questions (chosen by hash of the question id, the same in both
languages) goes through the product's stages: retrieve (`pipeline.search`, hybrid by default), rerank
(only with --rerank), assemble (near-duplicates dropped, token budget), generate. Scored against the gold
answers with SQuAD's EM and token F1 (best over gold answers, citation markers removed), and whether the
answer cites the gold paragraph.

Retrieval: BM25 and hybrid (BM25 + dense, weighted sum as `HybridRetriever`) on laws-heading (test laws)
and XQuAD de-de, each with and without `--expand` (compound parts + ontology synonyms on the BM25 side)
and `--self-query`. laws-heading's queries name no law, so self-query is also measured on the same
queries with the law added ("Begriffsbestimmungen im KSG"), the way a user would ask.

    .venv/bin/python benchmarks/rag_answers.py                 # about 17 min on 2 busy cores
    .venv/bin/python benchmarks/rag_answers.py --skip-answers   # only the nDCG part (a skipped part is kept)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from adaptlab.corpus.language import detect_language  # noqa: E402
from adaptlab.corpus.store import ChunkRecord  # noqa: E402
from adaptlab.datasets import data_root  # noqa: E402
from adaptlab.eval.answer_eval import AnswerReport, answer_scores, citation_scores, held_out, xquad_qa  # noqa: E402
from adaptlab.eval.beir import BeirDataset  # noqa: E402
from adaptlab.eval.metrics import ir_metrics  # noqa: E402
from adaptlab.eval.retrieval_eval import document_text, resolve_datasets  # noqa: E402
from adaptlab.jsonio import write_json  # noqa: E402
from adaptlab.models.loading import load_embedder  # noqa: E402
from adaptlab.models.registry import LLM_ZOO, is_installed  # noqa: E402
from adaptlab.rag.answer import citations_in  # noqa: E402
from adaptlab.rag.context import assemble_context, counter_for  # noqa: E402
from adaptlab.rag.generators import load_generator  # noqa: E402
from adaptlab.retrieval.bm25 import BM25Index  # noqa: E402
from adaptlab.retrieval.expansion import CompoundSplitter, QueryExpander, default_synonyms  # noqa: E402
from adaptlab.retrieval.filters import parse_filter  # noqa: E402
from adaptlab.retrieval.fusion import fuse_runs  # noqa: E402
from adaptlab.retrieval.query_plan import QueryTools, plan_query  # noqa: E402
from adaptlab.retrieval.self_query import Facets  # noqa: E402
from adaptlab.workspace import Workspace  # noqa: E402

Run = dict[str, dict[str, float]]
DEPTH = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=150, help="held-out questions per language (extractive)")
    p.add_argument(
        "--n-llm", type=int, default=20, help="of those, how many the local LLMs answer (CPU-bound)"
    )
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--mode", default="hybrid")
    p.add_argument("--model", default="use-multilingual", help="dense model (both parts)")
    p.add_argument("--context-tokens", type=int, default=768, help="token budget for the LLMs' sources")
    p.add_argument(
        "--max-new-tokens",
        type=int,
        default=64,
        help="LLM answer length (XQuAD answers are a few words; the CLI default is 160)",
    )
    p.add_argument("--generators", nargs="+", default=["extractive", "smollm2-135m", "gemma3-270m"])
    p.add_argument("--rerank", default=None, help="a reranker spec to time and apply (retrieval.rerank)")
    p.add_argument("--skip-answers", action="store_true")
    p.add_argument("--skip-retrieval", action="store_true")
    p.add_argument("--output", type=Path, default=Path("docs/results/rag_answers.json"))
    return p.parse_args(argv)


# --- answers ---------------------------------------------------------------------------------------


def build_workspace(root: Path, paragraphs: dict[str, dict[str, str]], model: str) -> Path:
    """The paragraphs as a JSONL corpus (paragraph id kept as metadata), ingested and embedded."""
    from adaptlab.pipeline import Session

    docs = root / "docs"
    docs.mkdir(parents=True)
    lines = [
        json.dumps({"id": pid, "paragraph": pid, "title": p["title"], "text": p["text"]}, ensure_ascii=False)
        for pid, p in paragraphs.items()
    ]
    (docs / "xquad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Session.open(root / "ws", tracking_uri="none") as session:
        session.ingest([docs])
        session.embed(model)
    return root / "ws"


def answer_part(args: argparse.Namespace, xquad_dir: Path) -> dict[str, Any]:
    from adaptlab.pipeline import Session, search

    results: dict[str, Any] = {}
    generators: dict[str, Any] = {}
    for name in args.generators:
        if name in LLM_ZOO and not is_installed(LLM_ZOO[name]):
            results.setdefault("skipped_generators", {})[name] = f"not installed ({LLM_ZOO[name].install})"
            continue
        try:
            started = time.perf_counter()
            generators[name] = load_generator(name)
            if hasattr(generators[name], "max_new_tokens"):
                generators[name].max_new_tokens = args.max_new_tokens
            results.setdefault("generator_load_s", {})[name] = round(time.perf_counter() - started, 1)
        except Exception as exc:  # a generator the registry knows but `load_generator` cannot run yet
            results.setdefault("skipped_generators", {})[name] = f"{type(exc).__name__}: {exc}"
    for lang in ("de", "en"):
        items, paragraphs = xquad_qa(xquad_dir, lang)
        questions = held_out(items, args.n)
        with tempfile.TemporaryDirectory() as tmp:
            print(f"[answers/{lang}] ingest + embed {len(paragraphs)} paragraphs", file=sys.stderr)
            workspace = build_workspace(Path(tmp), paragraphs, args.model)
            with Session.open(workspace, tracking_uri="none") as session:
                search(session, args.model, ["warm up"], args.k, None, args.mode)  # load model, Milvus, BM25
                reranker = session.reranker(args.rerank, args.model) if args.rerank else None
                retrieved = []
                for item in questions:
                    started = time.perf_counter()
                    hits = search(session, args.model, [item.question], args.k, None, args.mode)[0]
                    timing = {"retrieve": (time.perf_counter() - started) * 1000}
                    if reranker is not None:
                        from adaptlab.retrieval.rerank import rerank_hits

                        started = time.perf_counter()
                        hits = rerank_hits(reranker, [item.question], [hits], k=args.k)[0]
                        timing["rerank"] = (time.perf_counter() - started) * 1000
                    retrieved.append((item, hits, timing))
            results[lang] = {"questions": len(questions), "paragraphs": len(paragraphs), "generators": {}}
            for name, generator in generators.items():
                limit = args.n if generator.extractive else args.n_llm
                budget = None if generator.extractive else args.context_tokens
                print(f"[answers/{lang}] {name} on {limit} questions", file=sys.stderr)
                results[lang]["generators"][name] = answer_questions(
                    name, generator, retrieved[:limit], budget
                ).summary() | {"context_tokens": budget}
    results["generators_note"] = (
        "extractive answers quote up to three sentences, so EM is ~0 by design and token F1 is diluted; "
        "answer_in_text says whether the gold answer is in the text at all"
    )
    return results


def answer_questions(name: str, generator: Any, retrieved: list, budget: int | None) -> AnswerReport:
    report = AnswerReport(name)
    count = counter_for(generator)
    for item, hits, timing in retrieved:
        started = time.perf_counter()
        context = assemble_context(hits, budget, count)
        assembled = time.perf_counter()
        text = "".join(generator.stream(item.question, context.sources)) if context.sources else ""
        generated = time.perf_counter()
        sources = [str(h.metadata.get("paragraph", "")) for h in context.sources]
        citations = citations_in(text, len(sources))
        scores = answer_scores(text, item.answers) | citation_scores(citations, sources, item.doc_id)
        scores["sources_kept"] = float(len(context.sources))
        report.add(
            scores,
            {**timing, "assemble": (assembled - started) * 1000, "generate": (generated - assembled) * 1000},
        )
        if len(report.examples) < 3:
            report.examples.append(
                {
                    "question": item.question,
                    "gold": list(item.answers),
                    "answer": text[:400],
                    "citations": citations,
                    "gold_paragraph": item.doc_id,
                    "sources": sources,
                }
            )
    return report


# --- retrieval: self-query and expansion -----------------------------------------------------------


def pseudo_records(dataset: BeirDataset, langs: dict[str, str]) -> list[ChunkRecord]:
    """BEIR documents as corpus records, so self-query's facets and the filter syntax apply to them."""
    return [
        ChunkRecord(
            doc_id,
            doc_id,
            0,
            "",
            doc.get("text", ""),
            None,
            langs[doc_id],
            "",
            "",
            {k: v for k, v in doc.items() if k not in ("title", "text")},
        )
        for doc_id, doc in dataset.corpus.items()
    ]


class SetSearcher:
    """BM25 (with optional masks) and exact dense search over one BEIR set, as `pipeline.search` does them."""

    def __init__(self, dataset: BeirDataset, embedder: Any) -> None:
        self.ids = list(dataset.corpus)
        texts = [document_text(dataset.corpus[d]) for d in self.ids]
        langs = [detect_language(t)[0] for t in texts]
        self.records = pseudo_records(dataset, dict(zip(self.ids, langs)))
        self.bm25 = BM25Index.build(self.ids, texts, langs)
        self.embedder = embedder
        self.doc_vecs = embedder.encode_documents(texts)
        model = self.bm25.model
        self.tools = QueryTools(
            Facets.from_records(self.records),
            QueryExpander(
                CompoundSplitter.from_bm25(model.vocab_dict, model.scores["indptr"]), default_synonyms()
            ),
        )

    def mask(self, expr: str | None) -> np.ndarray | None:
        if not expr:
            return None
        rule = parse_filter(expr)
        return np.fromiter((rule.matches(r) for r in self.records), dtype=np.float32, count=len(self.records))

    def runs(
        self, queries: dict[str, str], self_query: bool, expand: bool
    ) -> tuple[Run, Run, dict[str, int]]:
        """BM25 and dense runs of the planned queries; counts of what the plans did."""
        plans = {qid: plan_query(q, self.tools, None, self_query, expand) for qid, q in queries.items()}
        by_filter: dict[str | None, list[str]] = defaultdict(list)
        for qid, plan in plans.items():
            by_filter[plan.filter].append(qid)
        lexical: Run = {}
        semantic: Run = {}
        for expr, qids in by_filter.items():
            mask = self.mask(expr)
            rankings = self.bm25.search_many([plans[q].lexical_query for q in qids], DEPTH, mask)
            lexical.update({q: dict(r) for q, r in zip(qids, rankings)})
            scores = self.embedder.encode_queries([plans[q].query for q in qids]) @ self.doc_vecs.T
            if mask is not None:
                scores = np.where(mask[None, :] > 0, scores, -np.inf)
            for q, row in zip(qids, scores):
                top = np.argsort(-row)[:DEPTH]
                semantic[q] = {self.ids[i]: float(row[i]) for i in top if np.isfinite(row[i])}
        counts = {
            "filtered": sum(p.filter is not None for p in plans.values()),
            "expanded": sum(
                bool(p.expansion and p.expansion.lexical_query != p.query) for p in plans.values()
            ),
            "compounds": sum(bool(p.expansion and p.expansion.compounds) for p in plans.values()),
            "synonyms": sum(bool(p.expansion and p.expansion.synonyms) for p in plans.values()),
        }
        return lexical, semantic, counts


def retrieval_part(args: argparse.Namespace) -> dict[str, Any]:
    embedder = load_embedder(args.model, Workspace.resolve(None).model_cache)
    out: dict[str, Any] = {}
    for name in ("laws-heading", "xquad-de-de"):
        dataset = resolve_datasets([name])[0]
        print(
            f"[retrieval] {name}: {len(dataset.corpus)} documents, {len(dataset.queries)} queries",
            file=sys.stderr,
        )
        searcher = SetSearcher(dataset, embedder)
        variants = {"queries": dataset.queries}
        if name == "laws-heading":
            variants["queries+law"] = {
                q: f"{text} im {dataset.corpus[q]['law'].split()[0]}" for q, text in dataset.queries.items()
            }
        out[name] = {"documents": len(dataset.corpus), "queries": len(dataset.queries), "variants": {}}
        for variant, queries in variants.items():
            table: dict[str, Any] = {}
            for self_query, expand in ((False, False), (False, True), (True, False), (True, True)):
                label = "+".join(["self_query"] * self_query + ["expand"] * expand) or "plain"
                lexical, semantic, counts = searcher.runs(queries, self_query, expand)
                hybrid = fuse_runs([lexical, semantic], "wsum", [0.5, 0.5], depth=DEPTH)
                table[label] = {
                    "bm25_ndcg@10": round(ir_metrics(dataset.qrels, lexical)["ndcg@10"], 4),
                    "dense_ndcg@10": round(ir_metrics(dataset.qrels, semantic)["ndcg@10"], 4),
                    "hybrid_ndcg@10": round(ir_metrics(dataset.qrels, hybrid)["ndcg@10"], 4),
                    **counts,
                }
                print(f"  {variant:12s} {label:20s} {table[label]}", file=sys.stderr)
            out[name]["variants"][variant] = table
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = data_root(required=True)
    assert root is not None
    started = time.perf_counter()
    previous = json.loads(args.output.read_text(encoding="utf-8")) if args.output.is_file() else {}
    result: dict[str, Any] = {
        **{
            part: previous[part] for part in ("retrieval", "answers") if part in previous
        },  # a skipped part stays
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, shared with other agents' jobs (loaded): "
        "latencies are upper bounds, ratios within this run are comparable",
        "python": platform.python_version(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    if not args.skip_retrieval:
        result["retrieval"] = retrieval_part(args)
        write_json(result, args.output)  # each part is kept as soon as it is measured
    if not args.skip_answers:
        result["answers"] = answer_part(args, root / "xquad")
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_json(result, args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
