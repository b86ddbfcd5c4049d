"""The course's benchmark scripts (`python benchmarks/bench_<name>.py`), importable for the tests.

They live outside the teaching package and use only `wikiart_utils`' public API; what they share is in
`benchmarks.common`. See benchmarks/README.md.
"""
