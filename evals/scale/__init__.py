"""The scale benchmark (``python -m evals.scale --chunks N``, ``tether eval scale``).

A corpus of N chunks is built from the e-manual and the sample help center, repeated with
deterministic variation (``evals/scale/corpus.py``), ingested into a fresh store through the
product's ingest path, and measured: ingest chunks/s against raw MiniLM encoding of a sample in
the same run, the dense leg's latency and recall@10 against exact (brute-force numpy) search over
the very vectors ingest wrote, the in-process BM25 leg's read and build time, memory and query
latency, and hybrid search as the message path calls it. ``--vectors synthetic`` replaces MiniLM
with deterministic clustered random vectors (``evals/scale/vectors.py``), so the store and index
figures at 100k-1M can be had without hours of encoding: ingest speed and recall are then the
store's and the index's, not the embedder's. It prints a table, then one JSON object last.
"""
